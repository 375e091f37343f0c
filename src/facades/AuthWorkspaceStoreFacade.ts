/**
 * The OR3 `AuthWorkspaceStore` over the `AuthWorkspaceStore` service. Store methods get no event:
 * the host has already authorized the caller, and the service checks roles itself. Each method
 * runs one service program; typed errors reach the client as 4xx h3 errors (the host passes store
 * errors through unchanged), anything else as a generic 500.
 */
import * as Effect from "effect/Effect"
import type { AuthWorkspaceStore as HostAuthWorkspaceStore } from "../or3/types.js"
import { AuthWorkspaceStore } from "../services/AuthWorkspaceStore.js"
import { asMutable, type Runner, serviceCaller } from "./Runner.js"

/** The store with every optional (invite) method implemented. */
export type SqliteAuthWorkspaceStore = Required<HostAuthWorkspaceStore>

export const makeAuthWorkspaceStoreFacade = (run: Runner<AuthWorkspaceStore>): SqliteAuthWorkspaceStore => {
  const call = serviceCaller(run, AuthWorkspaceStore, "AuthWorkspaceStore")

  return {
    getUser: (input) => call("getUser", (store) => store.getUser(input)),
    getOrCreateUser: (input) => call("getOrCreateUser", (store) => store.getOrCreateUser(input)),
    getOrCreateDefaultWorkspace: (userId) =>
      call("getOrCreateDefaultWorkspace", (store) => store.getOrCreateDefaultWorkspace(userId)),
    getWorkspaceRole: (input) => call("getWorkspaceRole", (store) => store.getWorkspaceRole(input)),
    listUserWorkspaces: (userId) =>
      call("listUserWorkspaces", (store) => Effect.map(store.listUserWorkspaces(userId), asMutable)),
    createWorkspace: (input) => call("createWorkspace", (store) => store.createWorkspace(input)),
    updateWorkspace: (input) => call("updateWorkspace", (store) => store.updateWorkspace(input)),
    removeWorkspace: (input) => call("removeWorkspace", (store) => store.removeWorkspace(input)),
    setActiveWorkspace: (input) => call("setActiveWorkspace", (store) => store.setActiveWorkspace(input)),
    createInvite: (input) => call("createInvite", (store) => store.createInvite(input)),
    listInvites: (input) => call("listInvites", (store) => Effect.map(store.listInvites(input), asMutable)),
    revokeInvite: (input) => call("revokeInvite", (store) => store.revokeInvite(input)),
    consumeInvite: (input) => call("consumeInvite", (store) => store.consumeInvite(input)),
    validateInvite: (input) => call("validateInvite", (store) => store.validateInvite(input)),
    acceptInviteAndProvisionUser: (input) =>
      call("acceptInviteAndProvisionUser", (store) => store.acceptInviteAndProvisionUser(input))
  }
}
