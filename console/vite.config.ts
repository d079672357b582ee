// The console is built into console/dist and served by the API at /console (api/console.ts).
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  root: __dirname,
  base: '/console/',
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 250 },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
