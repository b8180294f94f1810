// The "share" link: the scenario's text (and seed and profile, when chosen) in the URL's
// fragment, which never leaves the browser. UTF-8, then base64url.

export interface Shared {
  text: string;
  seed?: number | undefined;
  profile?: string | undefined;
}

export function encodeShare({ text, seed, profile }: Shared): string {
  const params = new URLSearchParams();
  params.set("s", toBase64Url(new TextEncoder().encode(text)));
  if (seed !== undefined) params.set("seed", String(seed));
  if (profile !== undefined) params.set("profile", profile);
  return params.toString();
}

/** Null for a fragment that holds no shared scenario, or a damaged one. */
export function decodeShare(fragment: string): Shared | null {
  const params = new URLSearchParams(fragment.replace(/^#/, ""));
  const s = params.get("s");
  if (s === null) return null;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(fromBase64Url(s));
  } catch {
    return null;
  }
  const seedText = params.get("seed");
  const seed =
    seedText !== null && /^[0-9]+$/.test(seedText) && Number.isSafeInteger(Number(seedText))
      ? Number(seedText)
      : undefined;
  return { text, seed, profile: params.get("profile") ?? undefined };
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
