// Vite's `?worker` imports: a constructor for a worker bundled as its own same-origin file (the CSP's worker-src
// 'self'), never a blob: or data: URL.
declare module '*?worker' {
  const WorkerConstructor: new (options?: { name?: string }) => Worker;
  export default WorkerConstructor;
}
