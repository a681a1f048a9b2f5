import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The dashboard, served by the gateway at / from web/dist (see
 * src/server/static-files.ts). Hashed file names under assets/ are what lets
 * the gateway give them year-long cache headers.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 2000,
  },
  server: {
    // `vite` alone (npm run web:dev) proxies the API to a gateway on GATEWAY_URL.
    proxy: { '/graphql': process.env.GATEWAY_URL ?? 'http://127.0.0.1:8000' },
  },
});
