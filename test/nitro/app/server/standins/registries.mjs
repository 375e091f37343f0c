// The stand-in registries behind the OR3 host modules the plugin imports (`~~/server/.../registry`).
// Each host module is one small file under server/ that calls `defineRegistry` with how the host
// keys its entries; every registry defined here is listed by /registrations.json, so a new host
// import needs one new file and nothing else.

/** Every registry by the host path that defines it: path -> Map(key -> registered item). */
export const registries = new Map()

/**
 * A registry for the host module at `path`. `toItem` turns the register function's arguments into
 * the stored item (most take one item); `key` is how the host keys it (a later registration with
 * the same key replaces the earlier one, as in the host).
 */
export const defineRegistry = (path, { key = (item) => item.id, toItem = (item) => item } = {}) => {
  const items = new Map()
  registries.set(path, items)
  return {
    register: (...args) => {
      const item = toItem(...args)
      items.set(key(item), item)
    },
    keys: () => [...items.keys()],
    get: (id) => items.get(id) ?? null
  }
}

/** The keys of every registry, for the routes and the validator. */
export const registeredKeys = () => Object.fromEntries([...registries].map(([path, items]) => [path, [...items.keys()]]))
