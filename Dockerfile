# herald: multi-stage build, production dependencies only, non-root.
# The build stage runs the same commands as the README/CI (npm ci, tsc via `npm run build`);
# the image starts herald as `npm start` does (bin/herald.js), with `herald` as entrypoint.
# Node: the current LTS line (26, "Lithium", Active LTS until 2027-10-20, end of life
# 2029-04-30) on Debian 13; Node 20 reached end of life on 2026-04-30. The test suite runs on
# Node 20.19+ as well (package.json `engines`); see the README's "Node.js versions".
ARG NODE_IMAGE=node:26-trixie-slim
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production HERALD_HTTP_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN ln -s /app/bin/herald.js /usr/local/bin/herald && mkdir -p /app/outbox && chown node:node /app/outbox
USER node
# /healthz, /readyz, /metrics in every role; /dashboard in the dashboard and all roles
# (without HERALD_DASHBOARD_USER/PASSWORD it answers loopback clients only).
EXPOSE 8080
# Liveness only (process up and serving HTTP); orchestrators should probe /readyz for traffic.
# The slim image has no curl: Node's fetch does the probe. Loopback works in every role.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HERALD_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: finish in-flight jobs within HERALD_SHUTDOWN_GRACE (25 s), release the rest, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["herald"]
CMD ["start"]
