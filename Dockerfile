# Walker Hub image: `docker build -t walker-hub .`, then see docker-compose.yml and docs/deployment.md.
# Two stages: `build` installs every dependency and compiles src/ to dist/; the runtime stage keeps
# only the production dependencies and the built hub, and runs as the unprivileged `node` user.

FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production \
    WALKER_HUB_HOST=0.0.0.0 \
    WALKER_HUB_PORT=8000 \
    WALKER_HUB_DATA_DIR=/app/data \
    WALKER_HUB_WALKERS=/app/walkers \
    WALKER_HUB_LOG_FORMAT=json
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root demo ./demo
# The example walkers; mount your own folder over /app/walkers (read-only is enough).
COPY --chown=root:root walkers ./walkers
# The embedded store (used when MONGODB_URL is unset) is the only place the hub writes.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8000
# /readyz: 200 while taking traffic, 503 once draining (a plain-HTTP check: with TLS at the hub,
# point it at https and trust the certificate, or check from the proxy instead).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.WALKER_HUB_PORT || 8000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains (sockets closed with 1012, in-flight work awaited up to WALKER_HUB_DRAIN_TIMEOUT);
# give `docker stop -t` more than that.
STOPSIGNAL SIGTERM
CMD ["node", "bin/walker-hub.js"]
