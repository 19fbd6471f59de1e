# One image for every Ferry service; docker-compose.yml picks the service with the command.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    FERRY_HOST=0.0.0.0 \
    FERRY_CERTS_DIR=/certs

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

COPY shared ./shared
COPY services ./services
COPY scripts ./scripts
COPY functions ./functions
COPY tsconfig.json ./

USER node
CMD ["node", "--import", "tsx", "services/events/main.ts"]
