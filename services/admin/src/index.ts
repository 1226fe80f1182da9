export { type AdminApp, createAdminApp } from './app.js';
export { bearerCheck } from './auth.js';
export { chatroomAdmin } from './chatrooms.js';
export { type ClusterAdmin, type ClusterAdminOptions, startClusterAdmin } from './cluster.js';
export type { AdminDeps, AdminPresence, ChatroomAdmin } from './deps.js';
export { type AdminServer, startAdminServer } from './server.js';
