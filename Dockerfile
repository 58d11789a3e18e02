# herald: multi-stage build, production dependencies only, non-root.
# The build stage runs the same commands as the README/CI (npm ci, tsc via `npm run build`);
# the image starts herald as `npm start` does (bin/herald.js), with `herald` as entrypoint.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HERALD_HTTP_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN ln -s /app/bin/herald.js /usr/local/bin/herald && mkdir -p /app/outbox && chown node:node /app/outbox
USER node
# /healthz, /readyz, /metrics in every role; /dashboard in the dashboard role.
EXPOSE 8080
# Liveness only (process up and serving HTTP); orchestrators should probe /readyz for traffic.
# The slim image has no curl: Node's fetch does the probe. Loopback works in every role.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HERALD_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: finish in-flight jobs within HERALD_SHUTDOWN_GRACE (25 s), release the rest, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["herald"]
CMD ["start"]
