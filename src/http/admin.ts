/**
 * `/admin`: the authenticated admin API (bearer `ADMIN_TOKEN`, see `admin-auth.ts`). Every route below the
 * middleware is protected. Each surface is its own sub-app in its own file, mounted here on its own line:
 * add new ones (backfill, media, re-sync) the same way.
 */
import { Hono } from "hono";
import { auditAdmin } from "./admin-audit";
import { requireAdminToken } from "./admin-auth";
import { backfillApp } from "./backfill";
import { deadLettersAdmin } from "./admin-dead-letters";
import { doctorAdmin } from "./admin-doctor";
import { flagsAdmin } from "./admin-flags";
import { adminMediaApp } from "./admin-media";
import { resyncAdmin } from "./admin-resync";
import { statsAdmin } from "./admin-stats";

export const adminApp = new Hono<{ Bindings: Env }>();

adminApp.use("*", requireAdminToken);

adminApp.route("/dead-letters", deadLettersAdmin);
adminApp.route("/stats", statsAdmin);
adminApp.route("/resync", resyncAdmin);
adminApp.route("/media", adminMediaApp);
adminApp.route("/backfill", backfillApp);
adminApp.route("/doctor", doctorAdmin);
adminApp.route("/audit", auditAdmin);
adminApp.route("/flags", flagsAdmin);
