# syntax=docker/dockerfile:1
# One image for every Genesis Node.js service (gateway, learner, monitor, trainer-bridge,
# evaluator, deployer) and for the one-shot ops commands (dist/tools/ops/{migrate,provision}.js).
# Build from the repository root:
#   docker build -f deploy/docker/node.Dockerfile --build-arg APP=gateway -t genesis/gateway .
# APP only sets the default command (node dist/apps/$APP/main.js); docker-compose.yml passes it
# per service. Ignore rules: deploy/docker/node.Dockerfile.dockerignore.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- package manifests only, so that `npm ci` stays cached while sources change ---------------
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find apps libs -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

# --- build: install everything, compile, then drop dev dependencies ----------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build
RUN --mount=type=cache,target=/root/.npm npm prune --omit=dev --no-audit --no-fund \
 && find dist \( -name '*.spec.js' -o -name '*.test.js' -o -name '*.spec.js.map' -o -name '*.test.js.map' \) -delete \
 && rm -f dist/.tsbuildinfo \
 && mkdir -p /out \
 && cp -r package.json package-lock.json node_modules dist /out/ \
 && find apps libs -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /out/ \;

# --- runtime: production dependencies + compiled code, read-only for the non-root user --------
FROM ${NODE_IMAGE} AS runtime
ARG APP=gateway
ENV NODE_ENV=production \
    APP=${APP} \
    GENESIS_BIND_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /out/ ./
# The base image's unprivileged user (uid 1000); files stay owned by root, so the code is read-only.
USER node
EXPOSE 8000 9101 9103 9104 9105 9127
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec node dist/apps/${APP}/main.js"]
