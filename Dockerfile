# One image for the coordinator and the workers; docker-compose.yml picks the entry point.
FROM node:20-bookworm
# oneDNN lets `npm ci` build the native CPU backend; without it workers fall back to WebAssembly.
# The Vulkan loader lets GPU workers (--backend webgpu) reach the driver's Vulkan ICD that the NVIDIA
# Container Toolkit mounts.
RUN apt-get update && apt-get install -y --no-install-recommends libdnnl-dev libvulkan1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY libs/engine/native ./libs/engine/native
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
ENV NODE_ENV=production
CMD ["node", "dist/apps/coordinator/src/main.js"]
