// User names and client ids. A user name is local@domain (the domain is the home domain); a client id
// is the user name plus a UUID the client picks.
import { badRequest } from '../errors.js';

const LOCAL_PART = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface UserName {
  local: string;
  domain: string;
}

/** Parses local@domain; lower case only, so one spelling per name. Throws BAD_REQUEST. */
export function parseUserName(name: string): UserName {
  const at = name.lastIndexOf('@');
  const local = name.slice(0, at);
  const domain = name.slice(at + 1);
  if (at < 1 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) {
    throw badRequest(`user name must be local@domain with a lower-case local part of [a-z0-9._-] (1-63 characters), got ${JSON.stringify(name.slice(0, 80))}`);
  }
  return { local, domain };
}

/** Throws BAD_REQUEST unless `name` is a valid user name of `homeDomain`. */
export function requireLocalUser(name: string, homeDomain: string): void {
  if (parseUserName(name).domain !== homeDomain) throw badRequest(`user ${name} does not belong to this homeserver (${homeDomain})`);
}

export function requireClientUuid(uuid: string): void {
  if (!UUID.test(uuid)) throw badRequest('client uuid must be a lower-case canonical UUID');
}

/** The client id as one string (for actor keys and logs). */
export const clientIdOf = (userName: string, clientUuid: string): string => `${clientUuid}.${userName}`;
