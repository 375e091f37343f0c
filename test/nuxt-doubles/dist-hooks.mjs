// Node module hooks for the built-plugin check: the host resolves `~~/...` and `#imports`
// itself; here they go to the recording double (as does `#or3-test-host`, the check script's
// handle on it). Everything else resolves as Node does.
const HOST = new URL("./dist-host.mjs", import.meta.url).href

export async function resolve(specifier, context, nextResolve) {
  if (specifier === "#imports" || specifier === "#or3-test-host" || specifier.startsWith("~~/")) return { url: HOST, shortCircuit: true }
  return nextResolve(specifier, context)
}
