/**
 * The two Lua scripts that keep channel history in Redis (plain or Cluster). Each channel has a
 * meta hash (`e`: epoch, `o`: the last offset) and a stream whose entry ids are `<offset>-1`
 * (fields `t`: the publish time, ms, Redis's clock; `d`: the data's JSON text). Both keys carry the
 * channel topic's hash tag, so on a cluster they live in the topic's slot, with its subscribers.
 *
 * A meta hash that is missing (never written, expired, or lost with Redis's data) is created with a
 * fresh epoch given by the caller, and the stream is dropped with it: whatever was kept under the
 * old epoch can never be mistaken for the new one's.
 */
import { luaScript } from '../broker/scripts.js';

const META = `
local e = redis.call('HGET', KEYS[1], 'e')
local top = 0
if not e then
  e = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', e, 'o', 0)
else
  top = tonumber(redis.call('HGET', KEYS[1], 'o'))
end
`;

const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * Append and publish, in one step: the next offset, the entry (the stream trimmed to the
 * namespace's size), both keys' TTLs, and the publication itself on the channel's topic, so every
 * node receives each channel's publications in offset order.
 * KEYS: meta, stream. ARGV: fresh epoch, size, ttl ms, meta ttl ms, data, topic, publish command,
 * the wire message's head (`<version> h.`), the frame's head (up to `"offset":`).
 * Returns {offset, epoch}.
 */
export const appendScript = luaScript(`${META}${NOW}
top = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], top .. '-1', 't', now, 'd', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call(ARGV[7], ARGV[6], ARGV[8] .. e .. ' ' .. top .. ' ' .. ARGV[9] .. top .. ',"epoch":"' .. e .. '","data":' .. ARGV[5] .. '}')
return {top, e}
`);

/**
 * Where a channel is, and what it kept, in one consistent read.
 * KEYS: meta, stream. ARGV: fresh epoch, meta ttl ms, ttl ms, mode, since offset, since epoch, limit.
 * Modes: 'p' position only; 's' the publications after `since` (all of them, or status 0: the epoch
 * is another, more than `limit` are missing, or the first one needed is trimmed or expired: never a
 * part); 'l' the latest `limit` still kept.
 * Returns {epoch, top, status, offset1, data1, offset2, data2, ...}.
 */
export const readScript = luaScript(`${META}
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local mode = ARGV[4]
if mode == 'p' then return {e, top, 1} end
${NOW}
local oldest = now - tonumber(ARGV[3])
local limit = tonumber(ARGV[7])
local out = {e, top, 1}
local entries
if mode == 's' then
  local since = tonumber(ARGV[5])
  if ARGV[6] ~= e or since > top or top - since > limit then return {e, top, 0} end
  if since == top then return out end
  entries = redis.call('XRANGE', KEYS[2], (since + 1) .. '-1', '+', 'COUNT', top - since)
  if #entries ~= top - since or entries[1][1] ~= (since + 1) .. '-1' or tonumber(entries[1][2][2]) <= oldest then return {e, top, 0} end
else
  entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', limit)
  local n = #entries
  for i = 1, math.floor(n / 2) do entries[i], entries[n - i + 1] = entries[n - i + 1], entries[i] end
end
for _, entry in ipairs(entries) do
  if tonumber(entry[2][2]) > oldest then
    out[#out + 1] = tonumber(string.sub(entry[1], 1, -3))
    out[#out + 1] = entry[2][4]
  end
end
return out
`);
