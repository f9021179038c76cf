from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "users" (
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "id" SERIAL NOT NULL PRIMARY KEY,
    "canvas_host" VARCHAR(255) NOT NULL,
    "canvas_user_id" VARCHAR(64) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    CONSTRAINT "uid_users_canvas__e1f412" UNIQUE ("canvas_host", "canvas_user_id")
);
COMMENT ON TABLE "users" IS 'One user per Canvas host and Canvas user id.';
CREATE TABLE IF NOT EXISTS "assignment_workspaces" (
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "id" SERIAL NOT NULL PRIMARY KEY,
    "course_id" VARCHAR(64) NOT NULL,
    "assignment_id" VARCHAR(64) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "current_stage" VARCHAR(64),
    "progress" INT NOT NULL,
    "last_error" JSONB,
    "context_blob" JSONB,
    "plan_blob" JSONB,
    "plan_version" INT NOT NULL,
    "generation" INT NOT NULL,
    "last_event_id" INT NOT NULL,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_assignment__user_id_8ecb6c" UNIQUE ("user_id", "course_id", "assignment_id")
);
COMMENT ON COLUMN "assignment_workspaces"."status" IS 'QUEUED: queued\nRUNNING: running\nREADY: ready\nFAILED: failed';
CREATE TABLE IF NOT EXISTS "canvas_credentials" (
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "id" SERIAL NOT NULL PRIMARY KEY,
    "base_url" VARCHAR(255) NOT NULL,
    "auth_method" VARCHAR(32) NOT NULL,
    "token_ciphertext" TEXT NOT NULL,
    "refresh_token_ciphertext" TEXT,
    "token_expires_at" TIMESTAMPTZ,
    "user_id" INT NOT NULL UNIQUE REFERENCES "users" ("id") ON DELETE CASCADE
);
COMMENT ON TABLE "canvas_credentials" IS 'The user''s Canvas access, encrypted at rest (Fernet); never leaves the server.';
CREATE TABLE IF NOT EXISTS "processing_jobs" (
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "id" UUID NOT NULL PRIMARY KEY,
    "job_type" VARCHAR(32) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "stage" VARCHAR(64),
    "progress" INT NOT NULL,
    "generation" INT NOT NULL,
    "reprocess" BOOL NOT NULL,
    "attempts" INT NOT NULL,
    "idempotency_key" VARCHAR(128),
    "result_blob" JSONB,
    "error_code" VARCHAR(64),
    "error_message" TEXT,
    "warnings" JSONB NOT NULL,
    "llm_usage" JSONB NOT NULL,
    "started_at" TIMESTAMPTZ,
    "finished_at" TIMESTAMPTZ,
    "workspace_id" INT NOT NULL REFERENCES "assignment_workspaces" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_processing__workspa_15b862" UNIQUE ("workspace_id", "idempotency_key")
);
COMMENT ON COLUMN "processing_jobs"."job_type" IS 'PLAN: plan\nMILESTONE_FEEDBACK: milestone_feedback\nASSIGNMENT_FEEDBACK: assignment_feedback';
COMMENT ON COLUMN "processing_jobs"."status" IS 'QUEUED: queued\nRUNNING: running\nSUCCEEDED: succeeded\nFAILED: failed\nCANCELLED: cancelled';
CREATE TABLE IF NOT EXISTS "feedback_records" (
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "id" SERIAL NOT NULL PRIMARY KEY,
    "target_type" VARCHAR(16) NOT NULL,
    "target_id" VARCHAR(64) NOT NULL,
    "feedback_blob" JSONB NOT NULL,
    "plan_version" INT NOT NULL,
    "is_current" BOOL NOT NULL,
    "workspace_id" INT NOT NULL REFERENCES "assignment_workspaces" ("id") ON DELETE CASCADE,
    "job_id" UUID NOT NULL UNIQUE REFERENCES "processing_jobs" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "milestone_submissions" (
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "id" SERIAL NOT NULL PRIMARY KEY,
    "milestone_id" VARCHAR(64),
    "submission_text" TEXT NOT NULL,
    "job_id" UUID NOT NULL REFERENCES "processing_jobs" ("id") ON DELETE CASCADE,
    "workspace_id" INT NOT NULL REFERENCES "assignment_workspaces" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "plan_versions" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" INT NOT NULL,
    "plan_blob" JSONB NOT NULL,
    "context_blob" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "workspace_id" INT NOT NULL REFERENCES "assignment_workspaces" ("id") ON DELETE CASCADE,
    "job_id" UUID NOT NULL UNIQUE REFERENCES "processing_jobs" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_plan_versio_workspa_f114a0" UNIQUE ("workspace_id", "version")
);
COMMENT ON TABLE "plan_versions" IS 'Every finished plan, with the context it was made from; the workspace points at the';
CREATE TABLE IF NOT EXISTS "workspace_events" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "seq" INT NOT NULL,
    "job_id" UUID,
    "event_type" VARCHAR(32) NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "workspace_id" INT NOT NULL REFERENCES "assignment_workspaces" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_workspace_e_workspa_47ec57" UNIQUE ("workspace_id", "seq")
);
COMMENT ON TABLE "workspace_events" IS 'The durable, bounded event log behind SSE replay (``Last-Event-ID``).';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztXW1z2rgW/isavtx0Js2kJE1ys3fuDBDSZZuQ3kB2926z4wpbATdGprLclNnNf19J2N"
    "iWbbB5NUZf2iCdI9nPkSWdF+n8VRnaBrKco5rjmH08RJj+ZpNnZwR1VLkEf1UwHPI/ZpEd"
    "ggocjQIiXkBhzxJ8cMqgvfgcggL2HEqgThnRE7QcxIoM5OjEHFHTxqwUu5bFC22dEZq4Hx"
    "S52PzmIo3afUQHiLCKz58rrsP+YpW67RIHaaYhOgl6ZwV//smKTGygH+wRGBP/OXrWnkxk"
    "GZGXnTCLco2OR6Kshem1IOTP1NN023KHOCAejenAxlNqE1Ne2kcYEUgRb54Sl78kfwcPHP"
    "+9J+8TkEweMcRjoCfoWjQESk8Lyiqa1r7rap1mV9MqOWDUbcxFwB7VEW/f54/wtvru9Pz0"
    "4uTs9IKRiMeclpy/TroOgJkwCnja3cqrqIcUTigExgGoOkEcCQ3SOLhXrIaaQ5SMcJRTQt"
    "rwWI/8P2TcfZRnAe8XBMgHY3IT0LMXNO6wNfZEPgPnbuu22enWbj/x7oaO880S+NW6TV5T"
    "FaVjqfTg7A0vt9nnNvkop42A31rdnwH/Cf64azcFvLZD+0T0GNB1/6jwZ4IutTVsv2jQCI"
    "1Ov9RHjVEGUndHxoJSj3IqqRdF6j5GIbF7Tx/61sOTcFTojQEkKZ95mEmSN8NtFyU8hD80"
    "C+E+HbCfZ6czJPxr7b7xc+3+4OxUklrbq6mKqtcIzNHlLQfUMUYFdwa4HQqp6yTj3MTuUG"
    "DdYo8E8WRbFME84N4c2BVG6iJf/lkBr/zvofnQvLoEE+5HfP/QbrfaHy4BcTFmEmAlzdrV"
    "/9lvNoONH/F1rXXD6Z+gaXm95RTWu7MMwnonz2iBsHhVVFi6Swgf3wz2Pso1DcmMC4nLWx"
    "v35dMYEZsvHwkfR+q+Ocwyf/e8qi/iuNC75wBQCzpUQ4TYJA7pL527djKmUS55z2TqFPwN"
    "LNPJgm7BBvAM8DgckX2RP1APbmu/y2O4cXNXlzc8vIG6PH3YmKIfVOtZdi+PBGQ+JYPFZT"
    "CyIM4tgAiTQn9J9L8j4vDnzDGtS2xqapendu/d88EaZVKgJq+X39NUoVRcY3wKWhlablnN"
    "B2qIY3NwFtw0yo3NT8+JllHfdB1F99omiCnpH9E4pldKoHq2+QevmR0D99UfPX5psPQS+D"
    "K1zocHFXt39saITjS5WqdRu2pWBMI9qD+/QGJoKVA/IWRwGo0g3SZGgr5S91q4/niPrLQJ"
    "10P82mvtXjRWIuyjZg+3NzQdvp4vCdetaSGH2hh1pi2WFbPwLmhJ1D6xpn4N9lNlROur3V"
    "sWJGLriI0o3P9lsvMvI0xim7IkUFO3bZM3Viak+PRvV+3QtB9ZEOJVw+pQLoEY9sUr8b55"
    "Tx5qDYi/Q6dBkMFAM6FVSXCNx2gOZ/nFdUGt6VPybE7xSneAAF8J/+WASYcA6nzkHwKEdT"
    "IeMTkCSAHT6yg4uEYEI/rmJ4DZ0CHAQvA7cgBlTbAWWMmRbKpdQ/MJznrlhldu+CJOLTvq"
    "kFVu+H2UehY3fA86SHOJlcf9FeYpoVe4+v59Bt8Xo0p1fok6yQ/v0oE2ZOubnc8LH2XboF"
    "t4xPQJG0OLLcvPCOd0Dy+I/Ek1A/An1VTceVUUdvHwmm6O2L6CO13i2HdZaTL2SbylGO6z"
    "pq/m793ZboLp7HVz1/7gk8u+g6gQCHpiE9ZAW0YYs9oog/d90zKZ4Ih+jEwG6wJrfhL/Cl"
    "b+HZJKsRf6hP3d9m30O681xSz06QbluK1hnjX/DqOuzf5Zsy1/q0JYjyV/KcONZKFPMNvE"
    "bfjpRpsk78FqzzEo04gyjRRxV7mjSrIyjeyj1LOYRigkbNadSCsm9nSVXWIrhca47khsD7"
    "N8JxQiTCWEefUh2NPNSd6IyRjjUlGTRYNdhU1uccivOBLNdDTvdEYc2bptWwjilB1whFHC"
    "tsc41wWuvz3e7MCu393dRAZ2vSVbjR5u6002j4tRzojMiQYWh3x6aDufdUFmU8M5Aduvdi"
    "8R1YeH1lUyrAGHBKjrmsYR59tVo0ESYhOPwGSrEZ52xXvOjKh8CV9OsGRYZcqVBzs2drPa"
    "ZuQPN2+o5SzL2NekfUlOw9jSgV5FGOxzpRB85+s2kCXFZCZYyVJCN9NNZUOfQZPCR5W9bM"
    "fWK2Uv2x/LibKX7aPUs9jLgvk8nx1H5iuDO3/t90xMV0wtbyRFAmspjGebjqAoimpWXNjn"
    "KGfKhrDBQAWl+G5K8ZXmiBWgXNaTSzK+uVTaOSaF1am/4cN1CWqvdPYuXd2Nnfebf5Knyc"
    "jH4MnEpjNABuAtHIIXkw7ECRrvHhFgUvACHTCEBgJPxB7+JGqngxWMbC4IfiaHlVckia2j"
    "j0eM0Qvb0h2BBzECwQgRwIQLHBtAQBDrm/XEC3SIvZNBbJvJ6hzEOjSAh1La4aDP0TnMd4"
    "mouzu3qenn92cpV9Zs2/+W77YpGrx7eb3T3gtB2Q9LZknKYj9U2qDyKBfUaKEUa+VR3s3B"
    "XiCPchTPJKVaBnyGWj0l1fw7YladNyLyYZsGGo5sirA+1p7ReDmtM33S3caEW/nPk4t1jh"
    "EQPfF/Tv9bKdwcfKgczmrDqBzOpZZ6FoczX7DST2fMv24/zF9kF2jl002tfSlMs4/4tnXD"
    "cGOAatfN5lW91vh4CQIPuh+o/4hrnU7rQ/u22e6GCENJHXxK2SCcxZ+9+nsaVN6Ead6Ezk"
    "OjwQTGiRxX15mYOF00f8IjbtTajeaNKNI5JlZhsirkzqagsiioLArbs4eoq7bXACpBnloW"
    "x3TmIZwI3wbP4ExLdvYQDqSU6aVJV3+mDuIwixrCsYNkkp6fY0FLYC3f0vauepFl51C9SN"
    "868Dp53nDYI+d2uUlsKqXH4g43kRmIQWvk2sJFuco32Fe/j5sgNmRLXeJuOT18N8ZYBrQ3"
    "Hbv7AglXthJWy/RJJsyzeZ9+yDbbc02Lmtg54v1twzy7lonHsoaam/wxzEhmFmZSQlm5UJ"
    "hqThazq0Y51c2AxTGjxq3nfvDnAmKWWJWciyxnFVajDlls+0NaeyyISkqUUwD5sqKk5slK"
    "h9gPtllDsqxiLhbZ8z6tArR8yZ92BbGcEUXiMtyEQCL/ktz0+CF+02zG4zhMHCLzjTjP4u"
    "W+GbA1GkBs+L9FvWnE0+bkZU6MRPJSAnE+TuP99C/LVQdg1FUXhVx6djQGRUUe7aPUs0Qe"
    "SfNwVjO5xFbkmKMFDeVryZ0jLXP5AU9PZFAGzFfvnBD/54DZp99g9NW6LKxrGs4xU0EWBX"
    "aqCi+pv5bbgLCo/hpLr7kKZSwpw+d+amRSFtkE3SyeZzZdSwusQkGG22yZUA2X8EYOQc92"
    "GaIGEA0Ay+6DHhowkEGn0wQEMbV8DA6+fLmBDn0rnuht6+rLlzfJCVBX0ur8wyYO+racVl"
    "c3+/ui2P27Wj05Oa8en5xdvD89P39/cTzV8OJVs1S9eusD1/YiE/p89Y+LKgZ/KvYetTKl"
    "F+eEajHn4YWOR0n5wGcckkiJMYlwlXDLvPoDDCM4tmyYMGpnXNURsKg7ItQdEcoEo+6IUM"
    "7s3QB8excbrO4Qfg0RUx9UEhQzr+ZwlkIGAxp1W/sufeeHM3SYVK90+lYx/RK3MuwT15MK"
    "nn1UORD2yEuI7rvj4yxHSI6P04+Q8LqEa9uSsj/NubEtMe+T2ojP24jnMGyvfjF7/QeESF"
    "A1"
)
