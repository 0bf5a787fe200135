/** `GET|HEAD /media/<key>?sig=…[&exp=…]`: the files the links in Notion point to (see media/serve.ts). */
import { Hono } from "hono";
import { getConfig } from "../config";
import { serveMedia } from "../media/serve";

export const mediaApp = new Hono<{ Bindings: Env }>().get("/*", (c) => serveMedia(c.env.MEDIA, getConfig(c.env).config, c.req.raw));
