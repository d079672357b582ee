# One image for the API, the worker, the migrations, the demo seed and the simulator: docker-compose.yml picks
# the command. Built in two stages: the first compiles the TypeScript, the console and the workflow bundle;
# the second holds only the production dependencies and that output, and runs `node` directly as PID 1 (no
# npm or tsx in between), so SIGTERM reaches the process and it drains before it stops.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE=/app/workflow-bundle.js
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# The compiled modules sit where their sources did, so paths relative to a module hold (console assets, .data).
COPY --from=build /app/dist/ ./
COPY --from=build /app/console/dist ./console/dist
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
CMD ["node", "api/server.js"]
