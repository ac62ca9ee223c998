/**
 * Least privilege while running. The `agent` permission set in `deno.json`
 * grants what starting needs: reading the configured files, opening the
 * dead-letter file, the agent's own environment variables and the host
 * name. Once started, the agent gives all of that up and keeps only the
 * network (and writing, while it has an output file that SIGHUP reopens),
 * so that nothing a payload could trigger can read a file, read the
 * environment, or learn about the system.
 *
 * @module
 */

/** The permissions the agent needs only while it starts. */
export const STARTUP_PERMISSIONS = ["read", "write", "env", "sys"] as const;

/** The permissions {@linkcode permissionStates} reports. */
export const REPORTED_PERMISSIONS = [
  "net",
  "read",
  "write",
  "env",
  "sys",
  "run",
  "ffi",
  "import",
] as const;

/** A permission the agent reports on. */
export type ReportedPermission = typeof REPORTED_PERMISSIONS[number];

/** What the running process holds now, as Deno itself answers it. */
export type PermissionStates = Record<ReportedPermission, Deno.PermissionState>;

/**
 * Revokes `names` for the rest of the process's life and returns what the
 * process holds afterwards. A file opened before (the dead-letter file)
 * stays writable; opening another one is refused.
 */
export function dropPermissions(
  names: readonly Deno.PermissionName[] = STARTUP_PERMISSIONS,
): PermissionStates {
  for (const name of names) Deno.permissions.revokeSync({ name } as Deno.PermissionDescriptor);
  return permissionStates();
}

/** Queries every reported permission, without prompting. */
export function permissionStates(): PermissionStates {
  const states = {} as PermissionStates;
  for (const name of REPORTED_PERMISSIONS) {
    states[name] = Deno.permissions.querySync({ name } as Deno.PermissionDescriptor).state;
  }
  return states;
}

/** The names of the permissions that are granted in `states`. */
export function grantedPermissions(states: PermissionStates): ReportedPermission[] {
  return REPORTED_PERMISSIONS.filter((name) => states[name] === "granted");
}
