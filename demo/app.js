// The demo page's script: plain JavaScript on walker-hub/client (bundled by the hub at start).
// Everything other clients send is shown with textContent, never parsed as HTML.
import { connect, resolveRedirect } from 'walker-hub/client';

const TOKEN_KEY = 'walker-hub-demo-token';
const EMAIL_KEY = 'walker-hub-demo-email';
const $ = (id) => document.getElementById(id);

// A saved token the hub keeps refusing (expired, revoked, another hub's secret) is dropped after a
// few failed attempts, so the page falls back to public instead of retrying it for ever.
let failedAttempts = 0;
const hub = connect(location.origin, {
  getToken: () => {
    if (failedAttempts >= 3 && sessionStorage.getItem(TOKEN_KEY)) {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(EMAIL_KEY);
      $('account-status').textContent = 'The saved sign-in was refused; you are public now.';
    }
    return sessionStorage.getItem(TOKEN_KEY);
  },
});
// For the browser console (and the end-to-end test): the page's own client.
window.hub = hub;

// --- connection state -----------------------------------------------------------------------

function showInfo(info) {
  $('client-id').textContent = info.client_id;
  $('root-id').textContent = info.root_id;
  $('channel-id').textContent = info.channel_id;
}

function setStatus(text, up) {
  const status = $('status');
  status.textContent = text;
  status.className = up ? 'up' : 'down';
}

hub.on('error', (frame) => {
  if (frame.error?.code === 'connect_failed') failedAttempts++;
});
hub.on('connect', (info) => {
  failedAttempts = 0;
  showInfo(info);
  setStatus('Connected', true);
  const email = sessionStorage.getItem(EMAIL_KEY);
  if (sessionStorage.getItem(TOKEN_KEY) && email) $('account-status').textContent = `Signed in as ${email}`;
  // join/leave frames sent while the link was down are lost: ask again after a reconnect.
  refreshPresence();
});
hub.on('reconnect', () => addMessage('hub', 'reconnected'));
// A channel that keeps history: after a reconnect the SDK asks for what was missed. Recovered, those
// messages follow in order; otherwise they are lost, so the page reloads its data instead.
hub.on('subscribed', (joined) => {
  if (joined.recovered === true) addMessage('hub', `${joined.channel_id}: recovered ${joined.missed} message${joined.missed === 1 ? '' : 's'}`);
  else if (joined.recovered === false) {
    addMessage('hub', `${joined.channel_id}: could not recover: reloaded`);
    void loadStats();
  }
});
hub.on('disconnect', (why) => setStatus(`Disconnected (${why.code}), reconnecting…`, false));
hub.on('connection', (frame) => showInfo(frame.data));

// --- messages log ---------------------------------------------------------------------------

function addMessage(type, text) {
  const item = document.createElement('li');
  const label = document.createElement('span');
  label.className = 'type';
  label.textContent = type;
  const time = document.createElement('time');
  time.className = 'time';
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  item.append(label, document.createTextNode(text), time);
  const list = $('messages');
  list.append(item);
  while (list.children.length > 200) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function describe(type, frame) {
  const data = frame.data;
  if (type === 'chat' && data && typeof data === 'object') return `${data.from ?? 'someone'}: ${data.message ?? JSON.stringify(data)}`;
  if (type === 'progress' && data && typeof data === 'object') return `${data.progress} ${data.status}`;
  if ((type === 'join' || type === 'leave') && frame.client) return `${frame.client.client_id} ${type === 'join' ? 'joined' : 'left'} ${frame.channel_id}`;
  return JSON.stringify(frame);
}

hub.onAny((type, frame) => {
  addMessage(type, describe(type, frame));
  if (type === $('refresher').value.trim()) void loadStats();
});

// --- progress, toasts, redirects --------------------------------------------------------------

hub.on('progress', (frame) => {
  const percent = Number.parseInt(String(frame.data?.progress), 10);
  if (Number.isFinite(percent)) $('progress').value = percent;
  $('progress').textContent = `${percent}%`;
  $('progress-label').textContent = `${frame.data?.progress} ${frame.data?.status}`;
});

const POSITIONS = new Set(['top-left', 'top-center', 'top-right', 'bottom-left', 'bottom-center', 'bottom-right']);

function showToast(data) {
  if (!data || typeof data !== 'object' || typeof data.message !== 'string') return;
  const params = data.parameters && typeof data.parameters === 'object' ? data.parameters : {};
  const position = POSITIONS.has(params.position) ? params.position : 'top-right';
  const duration = Number.isFinite(params.duration) ? Math.min(Math.max(params.duration, 500), 60_000) : 4000;
  let group = document.querySelector(`.toast-group[data-position="${position}"]`);
  if (!group) {
    group = document.createElement('div');
    group.className = 'toast-group';
    group.dataset.position = position;
    $('toasts').append(group);
  }
  const toast = document.createElement('div');
  toast.className = 'toast';
  if (typeof params.icon === 'string' && params.icon !== '') {
    const icon = document.createElement('span');
    icon.className = 'icon';
    icon.setAttribute('aria-hidden', 'true');
    icon.textContent = params.icon;
    toast.append(icon);
  }
  const text = document.createElement('span');
  text.textContent = data.message;
  toast.append(text);
  group.append(toast);
  setTimeout(() => toast.remove(), duration);
}

hub.on('alert', (frame) => showToast(frame.data));

hub.on('redirect', (frame) => {
  const action = resolveRedirect(frame.data, location.href);
  if (action.kind === 'ignore') return addMessage('redirect', `ignored: ${action.reason}`);
  setTimeout(() => (action.kind === 'back' ? history.back() : location.assign(action.href)), action.delayMs);
});

// --- hub data (the refresher's target) ---------------------------------------------------------

let loads = 0;
async function loadStats() {
  try {
    const res = await fetch('/healthz', { cache: 'no-store' });
    const stats = await res.json();
    $('stat-clients').textContent = String(stats.clients);
    $('stat-channels').textContent = String(stats.channels);
    $('stat-users').textContent = String(stats.users);
    loads++;
    $('refreshed').dataset.count = String(loads);
    $('refreshed').textContent = `Loaded ${loads} time${loads === 1 ? '' : 's'}, last at ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    $('refreshed').textContent = `Could not load: ${err.message}`;
  }
}
void loadStats();

// --- account ----------------------------------------------------------------------------------

async function postJson(path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  const json = await res.json();
  if (!res.ok) throw new Error(json.error?.message ?? `HTTP ${res.status}`);
  return json;
}

function credentials() {
  return { email: $('email').value.trim(), password: $('password').value };
}

async function login() {
  const { token, user } = await postJson('/user/login', credentials());
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(EMAIL_KEY, user.email);
  showInfo(await hub.changeUser(token));
  $('account-status').textContent = `Signed in as ${user.email}`;
  // The hub announces no join/leave for a new user on the same connection: re-read who is here.
  refreshPresence();
}

function reportAccount(err) {
  $('account-status').textContent = `Failed: ${err.message}`;
}

$('account-form').addEventListener('submit', (event) => {
  event.preventDefault();
  login().catch(reportAccount);
});
$('register').addEventListener('click', () => {
  postJson('/user/register', credentials()).then(login).catch(reportAccount);
});
$('logout').addEventListener('click', async () => {
  const token = sessionStorage.getItem(TOKEN_KEY);
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EMAIL_KEY);
  try {
    if (token) await postJson('/user/logout', {}, token);
    showInfo(await hub.changeUser());
    $('account-status').textContent = 'Public (not signed in). Sending needs an account.';
    refreshPresence();
  } catch (err) {
    reportAccount(err);
  }
});

// --- channels, sending, walkers ----------------------------------------------------------------

const ids = (text) => text.split(',').map((s) => s.trim()).filter((s) => s !== '');
const reportError = (what) => (err) => addMessage('error', `${what}: ${err.message}${err.code ? ` (${err.code})` : ''}`);

$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const wanted = ids($('channel').value);
  hub
    .subscribe(wanted)
    .then((channels) => {
      $('joined').textContent = channels.join(', ');
      for (const channel of wanted) void loadPresence(channel);
    })
    .catch(reportError('join'));
});

// --- who is in the joined channels (namespaces with presence and join/leave) --------------------

/** channel -> (client id -> root id), only for channels whose presence the hub answered. */
const members = new Map();

async function loadPresence(channel) {
  try {
    const clients = await hub.presence(channel);
    members.set(channel, new Map(clients.map((c) => [c.client_id, c.root_id])));
  } catch (err) {
    // Presence is off for the channel's namespace (or not ours to ask): the page shows no list for it.
    members.delete(channel);
    addMessage('presence', `${channel}: not shown (${err.code ?? err.message})`);
  }
  renderPresence();
}

function refreshPresence() {
  for (const channel of members.keys()) void loadPresence(channel);
}

function applyChange(change, joined) {
  const clients = members.get(change.channel_id);
  // No list (yet): the presence reply still to come was written after this frame, so it counts the change.
  if (!clients) return;
  if (joined) clients.set(change.client.client_id, change.client.root_id);
  else clients.delete(change.client.client_id);
  renderPresence();
}
hub.on('join', (change) => applyChange(change, true));
hub.on('leave', (change) => applyChange(change, false));

function renderPresence() {
  const lists = [];
  for (const [channel, clients] of members) {
    const block = document.createElement('div');
    block.className = 'presence-channel';
    block.dataset.channel = channel;
    const name = document.createElement('p');
    name.className = 'presence-name';
    name.textContent = `${channel} (${clients.size})`;
    const list = document.createElement('ul');
    for (const [clientId, rootId] of clients) {
      const item = document.createElement('li');
      const root = document.createElement('span');
      root.className = 'root';
      root.textContent = rootId;
      item.append(clientId === hub.info?.client_id ? `${clientId} (you)` : clientId, root);
      list.append(item);
    }
    block.append(name, list);
    lists.push(block);
  }
  $('presence-lists').replaceChildren(...lists);
  $('presence').hidden = members.size === 0;
}

$('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const kind = $('target-kind').value;
  const targets = ids($('target-ids').value);
  const data = { type: 'chat', data: { message: $('message').value, from: sessionStorage.getItem(EMAIL_KEY) ?? hub.info?.client_id } };
  const send = kind === 'user' ? hub.sendToUsers : kind === 'client' ? hub.sendToClients : hub.sendToChannels;
  send
    .call(hub, targets, data)
    .then(() => ($('message').value = ''))
    .catch(reportError('send'));
});

$('run-progress').addEventListener('click', () => {
  $('progress').value = 0;
  hub
    .call('self_progress_notif', { delay_ms: 150 })
    .then((reports) => addMessage('walker', `self_progress_notif: ${reports.length} reports`))
    .catch(reportError('self_progress_notif'));
});

$('alert-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const channel = $('alert-channel').value.trim();
  const context = { message: $('alert-message').value, icon: '🔔', ...(channel ? { channel_id: channel } : {}) };
  hub.call('send_alert', context).catch(reportError('send_alert'));
});

// --- shared todo list (the `todos` collection) --------------------------------------------------
// Kept by subscribeItems: init replaces the list (also after a reconnect), create/update upsert,
// delete removes. A hub without a `todos` collection refuses the subscription: the section stays hidden.

const todos = new Map();
const todoItems = () => hub.items('todos');
const reportTodo = (err) => {
  $('todo-status').textContent = `Failed: ${err.message}${err.code ? ` (${err.code})` : ''}`;
};

function renderTodos() {
  const list = $('todo-list');
  list.replaceChildren();
  for (const todo of todos.values()) {
    const item = document.createElement('li');
    item.dataset.id = todo.id;
    item.classList.toggle('done', todo.done === true);
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = todo.done === true;
    box.addEventListener('change', () => todoItems().update(todo.id, { done: box.checked }).catch(reportTodo));
    const text = document.createElement('span');
    text.textContent = todo.text;
    label.append(box, text);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${todo.text}`);
    remove.addEventListener('click', () => todoItems().delete(todo.id).catch(reportTodo));
    item.append(label, remove);
    list.append(item);
  }
}

hub.ready
  .then(() =>
    hub.subscribeItems('todos', { sort: 'created_at', limit: 200 }, ({ event, data }) => {
      if (event === 'init') todos.clear();
      if (event === 'delete') for (const id of data) todos.delete(id);
      else for (const todo of data) todos.set(todo.id, todo);
      renderTodos();
    }),
  )
  .then(
    () => {
      $('todos').hidden = false;
    },
    () => {
      // No todos collection on this hub (or not readable): nothing to show.
    },
  );

$('todo-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('todo-text');
  todoItems()
    .create({ text: input.value })
    .then(() => {
      input.value = '';
      $('todo-status').textContent = '';
    }, reportTodo);
});
