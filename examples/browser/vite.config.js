// Builds the page into dist/ as static files: `npx vite build` in this folder (or `npx vite` to develop).
import { defineConfig } from 'vite'

export default defineConfig({
  // Relative asset URLs: the built page works from any path, or opened from a file server's subfolder.
  base: './',
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // Lists the entry chunk and what it imports, for measuring the JavaScript the page loads up front.
    manifest: true,
  },
})
