// The reference component's default perMessageDeflate (@venizia/ignis's
// SocketIOComponent), shared by the Node servers of the test and bench
// pipelines so that they compress the way the reference does.
export const REFERENCE_PER_MESSAGE_DEFLATE = Object.freeze({
  threshold: 4096,
  zlibDeflateOptions: { chunkSize: 10 * 1024 },
  zlibInflateOptions: { windowBits: 12, memLevel: 8 },
  clientNoContextTakeover: true,
  serverNoContextTakeover: true,
  serverMaxWindowBits: 10,
  concurrencyLimit: 20,
});

/**
 * Whether PER_MESSAGE_DEFLATE turns compression on for every server of a
 * suite. Same values as the demo server's variable: `true` or `false`
 * (unset: off); anything else is refused rather than guessed.
 */
export function perMessageDeflateFromEnv(env = process.env) {
  const value = env.PER_MESSAGE_DEFLATE;
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new Error(`PER_MESSAGE_DEFLATE=${value}: use true or false (the demo server accepts only these)`);
}
