// One request's entry in the KV-cache manager's bookkeeping (vllm/v1/core/kv_cache_manager.py
// and its single-type manager); a file of its own so that Request can hold it without importing
// the manager, which imports Request.

/**
 * vLLM's req_to_blocks and num_cached_block entries of one request, kept together and reached
 * through the request (`Request.kvBlocks`). The blocks are held by id, so the pool's hot paths
 * never read the block objects.
 */
export interface RequestBlocks {
  readonly requestId: string;
  ids: number[];
  /** How many leading blocks are already registered in the prefix cache. */
  numCached: number;
  /** The manager's list of every request holding blocks, for the checks that walk them all. */
  prev: RequestBlocks | null;
  next: RequestBlocks | null;
}
