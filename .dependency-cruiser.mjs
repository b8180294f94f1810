import { builtinModules } from "node:module";

// The import rules `npm run lint` checks with dependency-cruiser: no import cycle (type-only
// imports count), and a module imports only from its own layer and the layers before it in
// LAYERS. The order is what each part is built from:
// - sim, the kernel, knows nothing of LLMs; util's helpers know nothing of vLLM;
// - deployment is arithmetic on a model's config, a GPU's datasheet and vLLM's sizing rules;
// - engine is one vLLM engine, with the connector interface its scheduler calls; kv-transfer
//   (P/D connectors) and kv-offload (external KV cache tiers and their connectors) implement it;
// - accounting (the ground truth and what each vLLM version reports) and metrics (the stat
//   loggers, which export both) read the engine's stats and the transfers; the cluster's
//   instances build them, as vLLM's AsyncLLM builds its stat loggers, so they come before it;
// - a scenario names the accounting profiles, and the workload is drawn from a scenario;
// - cluster runs a scenario; explain, check and output read what it ran; the playground runs it
//   in a browser; a sweep runs many variants of one and tabulates them; docs runs and renders
//   all of them; site bundles the playground; cli is the edge.

/** The layers, lowest first, each with the folders it is made of. */
export const LAYERS = [
  { name: "sim", folders: ["sim"] },
  { name: "util", folders: ["src/util"] },
  { name: "deployment", folders: ["src/deployment"] },
  { name: "engine", folders: ["src/engine"] },
  { name: "kv-transfer", folders: ["src/kv-transfer", "src/kv-offload"] },
  { name: "accounting/metrics", folders: ["src/accounting", "src/metrics"] },
  { name: "scenario", folders: ["src/scenario"] },
  { name: "workload", folders: ["src/workload"] },
  { name: "cluster", folders: ["src/cluster"] },
  { name: "explain", folders: ["src/explain"] },
  { name: "check", folders: ["src/check"] },
  { name: "output", folders: ["src/output"] },
  { name: "playground", folders: ["src/playground"] },
  { name: "sweep", folders: ["src/sweep"] },
  { name: "docs", folders: ["src/docs"] },
  { name: "site", folders: ["src/site"] },
  { name: "cli", folders: ["src/cli"] },
];

/** Any of Node's built-in modules (`fs/promises` is one), with or without `node:`. */
const NODE_BUILTIN = `^(node:)?(${builtinModules
  .filter((name) => !name.startsWith("_"))
  .map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
  .join("|")})$`;

const pathOf = (folders) => `^(${folders.join("|")})/`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => {
  const later = LAYERS.slice(i + 1);
  return {
    name: `layer-${layer.name}`,
    severity: "error",
    comment: `${layer.name} may not import from ${later.map((l) => l.name).join(", ")}: they come after it in the layer order (.dependency-cruiser.mjs).`,
    from: { path: pathOf(layer.folders) },
    to: { path: pathOf(later.flatMap((l) => l.folders)) },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "An import cycle, type-only imports included: move the shared part to the lower module.",
      from: {},
      to: { circular: true },
    },
    {
      name: "layer-unknown",
      severity: "error",
      comment: "A folder of src/ that no layer names: add it to LAYERS in .dependency-cruiser.mjs.",
      from: { path: "^src/", pathNot: pathOf(LAYERS.flatMap((l) => l.folders)) },
      to: {},
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment:
        "An import that resolves to no file (and so escapes the rules above); `virtual:` modules are made by src/site/build.ts as it bundles.",
      from: {},
      to: { couldNotResolve: true, pathNot: "^virtual:" },
    },
    ...layerRules,
    {
      name: "playground-not-to-node",
      severity: "error",
      comment:
        "The playground runs in a browser: nothing it imports, however indirectly, may reach a Node built-in (files, processes), type-only imports included as in the layer rules. Put the Node part behind an interface the CLI fills (as ScenarioFiles and WorkloadOpener are).",
      from: { path: "^src/playground/" },
      to: {
        path: NODE_BUILTIN,
        reachable: true,
      },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      extensions: [".ts", ".js"],
      exportsFields: ["exports"],
      conditionNames: ["import", "node", "default"],
    },
  },
};
