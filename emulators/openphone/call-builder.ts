/**
 * Builds one call with everything OpenPhone attaches to it: recording segments (media served by the emulator),
 * transcript (up to hour-long), AI summary with next steps, voicemail. Unspecified choices are drawn from the store's
 * seeded random source, in realistic proportions.
 */
import { pick } from "../shared/roster.ts";
import { summaryLines, transcriptDialogue, turnsForChars, voicemailTranscript } from "./content.ts";
import { hexId, randomId } from "./identifiers.ts";
import type { Call, CallRecord, CallRecording, CallShape, MediaFile } from "./model.ts";
import { pickParticipant } from "./participants.ts";
import type { EmulatorStore } from "./store.ts";

export interface CallOptions {
  phoneNumberId?: string;
  participant?: string;
  direction?: "incoming" | "outgoing";
  /** A shape ("answered", "voicemail", …) or a raw spec status ("completed", "no-answer", …). */
  status?: CallShape | Call["status"];
  durationSeconds?: number;
  /** `bytes` per segment. */
  recording?: { segments: number; bytes?: number };
  transcript?: { chars: number } | { turns: number } | false;
  summary?: boolean;
  voicemail?: boolean;
  /** Size of recorded audio per second (default about 32 kbit/s). */
  audioBytesPerSecond?: number;
}

/** Milliseconds after completion at which each artifact becomes available (0 for history). */
export interface ArtifactDelays {
  recording: number;
  transcript: number;
  summary: number;
  voicemail: number;
}

/** Recorded audio is served at about 32 kbit/s, so a minute is about 240 KB. */
export const AUDIO_BYTES_PER_SECOND = 4000;

const SHAPE_WEIGHTS: [CallShape, number][] = [
  ["answered", 0.6],
  ["voicemail", 0.12],
  ["missed", 0.1],
  ["no-answer", 0.06],
  ["busy", 0.03],
  ["failed", 0.02],
  ["canceled", 0.03],
  ["forwarded", 0.04],
];
const STATUS_OF_SHAPE: Record<CallShape, Call["status"]> = {
  answered: "completed",
  voicemail: "missed",
  missed: "missed",
  "no-answer": "no-answer",
  busy: "busy",
  failed: "failed",
  canceled: "canceled",
  forwarded: "forwarded",
};

function chooseShape(random: () => number, options: CallOptions): CallShape {
  if (options.voicemail) return "voicemail";
  const status = options.status;
  if (status === "completed" || status === "answered" || status === "in-progress") return "answered";
  if (status && status in STATUS_OF_SHAPE) return status as CallShape;
  if (status) return "missed";
  let roll = random();
  for (const [shape, weight] of SHAPE_WEIGHTS) if ((roll -= weight) < 0) return shape;
  return "answered";
}

function randomDuration(random: () => number): number {
  const roll = random();
  if (roll < 0.5) return 20 + Math.floor(random() * 160);
  if (roll < 0.9) return 180 + Math.floor(random() * 900);
  return 1800 + Math.floor(random() * 1800);
}

export function audioFile(store: EmulatorStore, bytes: number): MediaFile {
  return store.addMedia({ id: hexId(store.random, 32), bytes: Math.max(0, Math.floor(bytes)), contentType: "audio/mpeg", extension: "mp3" });
}

export function mediaUrl(baseUrl: string, file: MediaFile): string {
  return `${baseUrl}/media/${file.id}.${file.extension}`;
}

export function buildCall(store: EmulatorStore, baseUrl: string, options: CallOptions, completedAt: Date, delays: ArtifactDelays): CallRecord {
  const { random } = store;
  const audioRate = options.audioBytesPerSecond ?? AUDIO_BYTES_PER_SECOND;
  const line = (options.phoneNumberId && store.line(options.phoneNumberId)) || pick(random, store.workspace.phoneNumbers);
  const user = store.workspace.users.find((u) => u.id === line.users[0]?.id) ?? store.owner;
  const shape = chooseShape(random, options);
  const direction = options.direction ?? (shape === "voicemail" || shape === "missed" || shape === "forwarded" ? "incoming" : shape === "no-answer" ? "outgoing" : random() < 0.6 ? "incoming" : "outgoing");
  const external = options.participant ?? pickParticipant(store);
  const answered = shape === "answered";
  const duration = answered ? Math.max(1, Math.round(options.durationSeconds ?? randomDuration(random))) : 0;
  const ringSeconds = 5 + Math.floor(random() * 20);
  const end = completedAt.getTime();
  const created = new Date(end - (duration + ringSeconds) * 1000);
  const answeredAt = answered ? new Date(created.getTime() + ringSeconds * 1000).toISOString() : null;
  const call: Call = {
    id: randomId(random, "AC"),
    phoneNumberId: line.id,
    userId: user.id,
    direction,
    status: options.status && !(options.status in STATUS_OF_SHAPE) && options.status !== "answered" ? (options.status as Call["status"]) : STATUS_OF_SHAPE[shape],
    participants: direction === "incoming" ? [external, line.number] : [line.number, external],
    createdAt: created.toISOString(),
    updatedAt: completedAt.toISOString(),
    answeredAt,
    completedAt: completedAt.toISOString(),
    answeredBy: answered && direction === "incoming" ? user.id : null,
    initiatedBy: direction === "outgoing" ? user.id : null,
    callRoute: direction === "incoming" ? (random() < 0.8 ? "phone-number" : "phone-menu") : null,
    duration,
    forwardedFrom: shape === "forwarded" ? line.number : null,
    forwardedTo: shape === "forwarded" ? pick(random, store.workspace.users).id : null,
    aiHandled: null,
  };

  const recordings: CallRecording[] = [];
  const wantsRecording = answered && (options.recording ? options.recording.segments > 0 : random() < 0.9);
  if (wantsRecording) {
    const segments = Math.max(1, Math.floor(options.recording?.segments ?? (duration > 600 && random() < 0.4 ? 2 + Math.floor(random() * 2) : 1)));
    const segmentSeconds = Math.max(1, Math.floor(duration / segments));
    for (let i = 0; i < segments; i++) {
      const file = audioFile(store, options.recording?.bytes ?? segmentSeconds * audioRate);
      recordings.push({
        id: randomId(random, "CR", 10),
        duration: segmentSeconds,
        startTime: new Date(Date.parse(answeredAt!) + i * segmentSeconds * 1000).toISOString(),
        status: i < segments - 1 ? "paused" : "completed",
        type: "audio/mpeg",
        url: mediaUrl(baseUrl, file),
      });
    }
  }

  const wantsTranscript = answered && options.transcript !== false && (options.transcript !== undefined || random() < 0.85);
  const dialogue = wantsTranscript
    ? transcriptDialogue(random, duration, options.transcript ? ("turns" in options.transcript ? options.transcript.turns : turnsForChars(options.transcript.chars)) : Math.max(2, Math.round(duration / 6)), {
        agent: { identifier: line.number, userId: user.id },
        customer: external,
      })
    : null;
  const wantsSummary = wantsTranscript && (options.summary ?? random() < 0.9);
  const lines = wantsSummary ? summaryLines(random) : null;

  const wantsVoicemail = shape === "voicemail";
  const voicemailFile = wantsVoicemail ? audioFile(store, (10 + Math.floor(random() * 50)) * audioRate) : undefined;

  return {
    call,
    recordings,
    recordingReadyAt: end + delays.recording,
    transcript: dialogue ? { callId: call.id, createdAt: new Date(end + delays.transcript).toISOString(), dialogue, duration, status: "completed" } : null,
    transcriptReadyAt: end + delays.transcript,
    summary: lines ? { callId: call.id, status: "completed", summary: lines.summary, nextSteps: lines.nextSteps } : null,
    summaryReadyAt: end + delays.summary,
    voicemail: voicemailFile
      ? { id: randomId(random, "VM", 20), status: "completed", duration: Math.round(voicemailFile.bytes / audioRate), transcript: voicemailTranscript(random), recordingUrl: mediaUrl(baseUrl, voicemailFile) }
      : null,
    voicemailReadyAt: end + delays.voicemail,
  };
}
