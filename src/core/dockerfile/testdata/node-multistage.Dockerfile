# syntax=docker/dockerfile:1.7
# A typical Node.js build: dependencies, build, slim runtime.
ARG NODE_VERSION=20.11
ARG ALPINE=3.19

FROM node:${NODE_VERSION}-alpine${ALPINE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev

FROM deps AS build
COPY --link . .
RUN npm run build \
    # the tests run in CI, not here
    && rm -rf src

FROM node:${NODE_VERSION}-alpine${ALPINE}
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /srv
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE $PORT
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "dist/health.js"]
CMD ["node", "dist/server.js"]
