/** Types of web/serve.mjs (the demo's static server), for the browser test. */
export function startServer(options?: { port?: number; host?: string; isolated?: boolean }): Promise<{
  url: string;
  close: () => Promise<void>;
}>;
