// Deployment settings, read before the app starts. The deploy tool overwrites this file;
// locally the API is on the same origin under /api.
window.MODEX_CONFIG = { apiBase: "/api" };
