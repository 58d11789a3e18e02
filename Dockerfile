# herald: multi-stage build, production dependencies only, non-root.
# The build stage runs the same commands as the README/CI (npm ci, tsc via `npm run build`).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN ln -s /app/bin/herald.js /usr/local/bin/herald && mkdir -p /app/outbox && chown node:node /app/outbox
USER node
EXPOSE 8080
ENTRYPOINT ["herald"]
CMD ["start"]
