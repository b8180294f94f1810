// GPUs pdsim knows by name, from their vendors' datasheets: memory, memory bandwidth, and dense
// (not "with sparsity") BF16 and FP8 tensor throughput. NVIDIA's H100 and H200 datasheets print
// the with-sparsity figures, twice the dense ones; the dense figures are their halves.

export interface GpuSpec {
  /** The preset's name, or "custom" for values a scenario gives. */
  name: string;
  memory_gb: number;
  memory_bandwidth_tb_s: number;
  bf16_tflops: number;
  /** Null: the GPU has no FP8 tensor cores (A100). */
  fp8_tflops: number | null;
  source: string;
}

export const GPU_PRESETS = {
  "h100-sxm": {
    name: "h100-sxm",
    memory_gb: 80,
    memory_bandwidth_tb_s: 3.35,
    bf16_tflops: 989.5,
    fp8_tflops: 1979,
    source: "NVIDIA H100 Tensor Core GPU datasheet, SXM column (1,979 and 3,958 with sparsity)",
  },
  h200: {
    name: "h200",
    memory_gb: 141,
    memory_bandwidth_tb_s: 4.8,
    bf16_tflops: 989.5,
    fp8_tflops: 1979,
    source: "NVIDIA H200 Tensor Core GPU datasheet, SXM column (1,979 and 3,958 with sparsity)",
  },
  "a100-80gb": {
    name: "a100-80gb",
    memory_gb: 80,
    memory_bandwidth_tb_s: 2.039,
    bf16_tflops: 312,
    fp8_tflops: null,
    source: "NVIDIA A100 Tensor Core GPU datasheet, 80GB SXM column (624 with sparsity; no FP8)",
  },
  l40s: {
    name: "l40s",
    memory_gb: 48,
    memory_bandwidth_tb_s: 0.864,
    bf16_tflops: 362.05,
    fp8_tflops: 733,
    source: "NVIDIA L40S datasheet (dense and with-sparsity figures side by side)",
  },
  mi300x: {
    name: "mi300x",
    memory_gb: 192,
    memory_bandwidth_tb_s: 5.3,
    bf16_tflops: 1307.4,
    fp8_tflops: 2614.9,
    source: "AMD Instinct MI300X accelerator data sheet (dense figures)",
  },
} as const satisfies Record<string, GpuSpec>;

export type GpuPresetName = keyof typeof GPU_PRESETS;

export const GPU_PRESET_NAMES = Object.keys(GPU_PRESETS) as [GpuPresetName, ...GpuPresetName[]];
