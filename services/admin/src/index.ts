export { type AdminApp, createAdminApp } from './app.js';
export { bearerCheck } from './auth.js';
export { chatroomAdmin } from './chatrooms.js';
export { type ClusterAdmin, type ClusterAdminOptions, startClusterAdmin } from './cluster.js';
export type { AdminDeps, AdminPresence, ChatroomAdmin, WebDemo } from './deps.js';
export { DEMO_TOKEN_TTL_SECONDS } from './routes/demo.js';
export { type AdminServer, startAdminServer } from './server.js';
