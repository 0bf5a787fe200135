/** `GET /admin/doctor`: every doctor check, run now (see `doctor/run.ts`). 200 with the report, `ok` false on problems. */
import { Hono } from "hono";
import { runDoctorNow } from "../doctor/schedule";

export const doctorAdmin = new Hono<{ Bindings: Env }>().get("/", async (c) => {
  const report = await runDoctorNow(c.env, new URL(c.req.url).origin);
  return c.json(report, 200, { "Cache-Control": "no-store" });
});
