# syntax=docker/dockerfile:1
# One image recipe for every Shoal service: docker build --build-arg SERVICE=ingestion .
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
ARG SERVICE
RUN test -n "${SERVICE}" || (echo "build with --build-arg SERVICE=<ingestion|segments|membership|scheduler|exporter>" && false)
RUN npm ci --no-audit --no-fund --loglevel=error \
 && NX_DAEMON=false npx nx run "@shoal/${SERVICE}:build" --output-style=static \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ARG SERVICE
ENV NODE_ENV=production \
    SHOAL_SERVICE=${SERVICE} \
    GRPC_HOST=0.0.0.0 \
    GRPC_PORT=50050 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=9450
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/libs ./libs
COPY --from=build /app/services/${SERVICE}/package.json ./services/${SERVICE}/package.json
COPY --from=build /app/services/${SERVICE}/dist ./services/${SERVICE}/dist
EXPOSE 50050 9450
USER node
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.HTTP_PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Ingestion and membership run with a young generation of 64 MiB semi-spaces (Node's default is
# 16): fewer, cheaper collections of the objects each batch makes (docs/operations.md, "Node's
# young generation"); the others keep the default and their smaller memory.
CMD ["sh", "-c", "case \"$SHOAL_SERVICE\" in ingestion|membership) young=--max-semi-space-size=64 ;; *) young= ;; esac; exec node --enable-source-maps $young services/${SHOAL_SERVICE}/dist/main.js"]
