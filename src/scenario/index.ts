// The scenario loader's public API: load a scenario file into a resolved Scenario.
export { loadScenario, loadScenarioData, parseScenario, resolveScenarioData } from "./load.ts";
export { MAX_REPORTED_ISSUES, ScenarioError, formatIssue, type ScenarioIssue } from "./errors.ts";
export {
  CONNECTORS,
  LOAD_FAILURE_POLICIES,
  PROFILE_NAMES,
  ROLES,
  ROUTING_POLICIES,
} from "./names.ts";
export { DEFAULT_ENGINE, DEFAULT_MODEL_NAME } from "./schema.ts";
export { parseMetricSelector, type SelectorParse } from "./selector.ts";
export type {
  ArrivalConfig,
  ConnectorName,
  DistributionConfig,
  EngineConfig,
  ExplicitRequestConfig,
  ExplicitWorkloadConfig,
  Expectation,
  GeneratedWorkloadConfig,
  InstanceConfig,
  InstanceRole,
  KvTransferConfig,
  LoadFailurePolicy,
  MetricSelector,
  ProfileName,
  ProxyConfig,
  RoutingPolicy,
  Scenario,
  SharedPrefixConfig,
  StepTimeConfig,
  WorkloadConfig,
} from "./types.ts";
