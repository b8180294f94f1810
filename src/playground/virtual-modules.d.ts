// Modules that `npm run site` makes while it bundles (src/site/build.ts).

declare module "virtual:pdsim-worker" {
  /** The worker's bundled code (worker.ts), started from a Blob. */
  const source: string;
  export default source;
}
