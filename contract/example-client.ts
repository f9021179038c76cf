// A small client of the Canvas Workspace API, typed only with the types generated from
// openapi.json (`npm run check` generates them and type-checks this file). If the API's
// contract changes in a way that breaks a client, this stops compiling.
import type { components, paths } from "./openapi";

type Schemas = components["schemas"];
export type ErrorBody = Schemas["ErrorBody"];
export type ProgressEvent = Schemas["ProgressEvent"];
export type WorkspaceSnapshot = Schemas["WorkspaceSnapshot"];
export type HistoryGone = Schemas["HistoryGone"];
export type StreamEnded = Schemas["StreamEnded"];

type Workspaces = "/assignments/{course_id}/{assignment_id}";
type CanvasLogin = paths["/auth/canvas"]["post"]["requestBody"]["content"]["application/json"];
type AccessToken =
  paths["/auth/canvas"]["post"]["responses"][200]["content"]["application/json"];
type Start = paths[`${Workspaces}/start`]["post"];
type StreamToken =
  paths[`${Workspaces}/events/token`]["post"]["responses"][200]["content"]["application/json"];
export type Plan =
  paths[`${Workspaces}/plan`]["get"]["responses"][200]["content"]["application/json"];
// The JSON in each SSE message's `data:`; the message's `event:` says which kind it is.
export type StreamMessage =
  paths[`${Workspaces}/events`]["get"]["responses"][200]["content"]["text/event-stream"];

// The start route answers 202 (planning started) or 200 (the existing workspace).
export type StartResult = {
  started: boolean;
  workspace: Start["responses"][202]["content"]["application/json"];
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    readonly retryAfterSeconds: number | null,
  ) {
    super(`${status} ${body.code}: ${body.message}`);
  }
}

const PROGRESS_EVENTS = [
  "job_queued",
  "job_started",
  "job_retrying",
  "stage_started",
  "warning",
  "draft_ready",
  "plan_ready",
  "failed",
] as const;
const TERMINAL_EVENTS: ReadonlySet<string> = new Set(["plan_ready", "failed"]);

export class WorkspaceClient {
  constructor(
    private readonly baseUrl: string,
    private accessToken: string | null = null,
  ) {}

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: T }> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const retryAfter = response.headers.get("retry-after");
      const error: ErrorBody = await response.json();
      throw new ApiError(response.status, error, retryAfter === null ? null : Number(retryAfter));
    }
    return { status: response.status, json: (await response.json()) as T };
  }

  async onboard(login: CanvasLogin): Promise<AccessToken> {
    const { json } = await this.request<AccessToken>("POST", "/auth/canvas", login);
    this.accessToken = json.access_token;
    return json;
  }

  async start(courseId: string, assignmentId: string, reprocess = false): Promise<StartResult> {
    const query = reprocess ? "?reprocess=true" : "";
    const path = `/assignments/${courseId}/${assignmentId}/start${query}`;
    const { status, json } = await this.request<StartResult["workspace"]>("POST", path);
    return { started: status === 202, workspace: json };
  }

  async plan(courseId: string, assignmentId: string): Promise<Plan> {
    const path = `/assignments/${courseId}/${assignmentId}/plan`;
    return (await this.request<Plan>("GET", path)).json;
  }

  private async streamUrl(courseId: string, assignmentId: string, after: string | null) {
    const path = `/assignments/${courseId}/${assignmentId}/events/token`;
    const { json: token } = await this.request<StreamToken>("POST", path);
    const resume = after === null ? "" : `&last_event_id=${encodeURIComponent(after)}`;
    return this.baseUrl + token.events_url + resume;
  }

  /** Follows the progress stream until the workspace is ready or failed: resolves with the
   * snapshot that says so (the job had ended already) or the terminal event. EventSource
   * cannot send headers, hence the stream token in the URL the token route returns. The
   * token is short-lived: when the stream ends because it expired (`stream_ended`), or
   * the browser gave up reconnecting (its token had expired by then), a fresh token and
   * `last_event_id` resume the stream with every event missed, once, in order. */
  async follow(
    courseId: string,
    assignmentId: string,
    onProgress: (event: ProgressEvent) => void,
    maxResumes = 20,
  ): Promise<WorkspaceSnapshot | ProgressEvent> {
    let lastEventId: string | null = null;
    let resumes = 0;
    return new Promise((resolve, reject) => {
      const open = async (): Promise<void> => {
        const source = new EventSource(await this.streamUrl(courseId, assignmentId, lastEventId));
        const finish = (last: StreamMessage): void => {
          source.close();
          resolve(last as WorkspaceSnapshot | ProgressEvent);
        };
        const resume = (why: string): void => {
          source.close();
          if (++resumes > maxResumes) reject(new Error(`the stream ended: ${why}`));
          else open().catch(reject);
        };
        source.addEventListener("snapshot", (message: MessageEvent<string>) => {
          const snapshot: WorkspaceSnapshot = JSON.parse(message.data);
          lastEventId = message.lastEventId || lastEventId;
          if (snapshot.status === "ready" || snapshot.status === "failed") finish(snapshot);
        });
        source.addEventListener("history_gone", (message: MessageEvent<string>) => {
          const notice: HistoryGone = JSON.parse(message.data);
          console.warn(`events after ${notice.requested_last_event_id} are gone: ${notice.message}`);
        });
        source.addEventListener("stream_ended", (message: MessageEvent<string>) => {
          const ended: StreamEnded = JSON.parse(message.data);
          if (ended.reason === "token_expired") resume(ended.reason);
          else {
            source.close();
            reject(new Error(`the stream ended: ${ended.reason}: ${ended.message}`));
          }
        });
        for (const type of PROGRESS_EVENTS) {
          source.addEventListener(type, (message: MessageEvent<string>) => {
            const event: ProgressEvent = JSON.parse(message.data);
            lastEventId = message.lastEventId;
            onProgress(event);
            if (TERMINAL_EVENTS.has(event.event_type)) finish(event);
          });
        }
        source.onerror = () => {
          // CLOSED: the browser gave up (a reconnect refused, e.g. with an expired token).
          if (source.readyState === EventSource.CLOSED) resume("the connection closed");
        };
      };
      open().catch(reject);
    });
  }
}

function failure(last: WorkspaceSnapshot | ProgressEvent): string | null {
  if (last.status !== "failed") return null;
  const error = "last_error" in last ? last.last_error : last.error;
  return error ? `${error.code}: ${error.message}` : "planning failed";
}

/** Onboard, plan one assignment while printing progress, and list the plan's milestones. */
export async function planAssignment(
  baseUrl: string,
  login: CanvasLogin,
  courseId: string,
  assignmentId: string,
): Promise<string[]> {
  const client = new WorkspaceClient(baseUrl);
  await client.onboard(login);
  const { workspace } = await client.start(courseId, assignmentId);
  console.log(`workspace ${workspace.workspace_id} is ${workspace.status}`);
  const last = await client.follow(courseId, assignmentId, (event) =>
    console.log(`${event.progress}% ${event.stage ?? ""} ${event.message}`),
  );
  const problem = failure(last);
  if (problem !== null) throw new Error(problem);
  const plan = await client.plan(courseId, assignmentId);
  return plan.milestones.map((milestone) => `${milestone.order}. ${milestone.title}`);
}
