import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * The playground's build: `syncline serve` serves `dist/` at `/`. `npm run dev -w playground` proxies `/api`
 * to a running `syncline serve` (SYNCLINE_URL, default http://127.0.0.1:8787).
 */
export default defineConfig({
  plugins: [svelte()],
  // Relative asset URLs are not needed: the server serves dist/ at the origin's root.
  base: '/',
  resolve: {
    // monaco-yaml's worker (through monaco-worker-manager) imports monaco's worker by its pre-0.55 path,
    // which monaco 0.57's `exports` map no longer resolves: point it at the same file.
    alias: [{ find: 'monaco-editor/esm/vs/editor/editor.worker.js', replacement: 'monaco-editor/editor/editor.worker.js' }],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Monaco is one lazily loaded chunk of ~3 MB; the app's own JS is reported separately by the bench.
    chunkSizeWarningLimit: 4096,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: process.env.SYNCLINE_URL ?? 'http://127.0.0.1:8787' } },
  },
});
