import type { Plugin } from 'graphql-yoga';
import type { DatabaseActivity } from '../../db/database-activity.js';

/** Paths that are not use of the gateway: probes and scrapes must not keep a scale-to-zero database awake. */
const NOT_ACTIVITY = new Set(['/health', '/ready', '/metrics']);

/** Every other request is activity: it resumes background database work a quiet period paused. */
export function useDatabaseActivity(activity: DatabaseActivity): Plugin {
  return {
    onRequest({ url }) {
      if (!NOT_ACTIVITY.has(url.pathname)) activity.touch();
    },
  };
}
