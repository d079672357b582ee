/** Who may call what: the roles an API key carries (the role matrix, api/role-matrix.md, is generated from the routes). */
export const ROLES = ['storefront', 'warehouse', 'approver', 'ops', 'procurement', 'finance', 'admin'] as const;
export type Role = (typeof ROLES)[number];
