from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        -- "a = r.a, b = r.b" for the keys of a JSON object of changes: the SET list of an
        -- update FROM jsonb_populate_record(..., changes) r.
        CREATE OR REPLACE FUNCTION cw_set_list(p_changes JSONB) RETURNS TEXT
        LANGUAGE sql IMMUTABLE AS $fn$
            SELECT string_agg(format('%I = r.%I', key, key), ', ')
              FROM jsonb_object_keys(p_changes) AS key
        $fn$;

        -- A reprocess in one round trip on PostgreSQL (server/workspaces/postgres.py): the
        -- statements _replace_on_sqlite runs in a transaction elsewhere, in the same
        -- order, so the same rows are locked in the same order (the user's row, then the
        -- workspace's, then its jobs').
        CREATE OR REPLACE FUNCTION cw_replace_plan_job(
            p_user_id INTEGER,
            p_max_active_jobs INTEGER,
            p_active_job_statuses TEXT[],
            p_workspace_id INTEGER,
            p_generation INTEGER,
            p_workspace_changes JSONB,
            p_superseded_changes JSONB,
            p_job JSONB,
            p_retention INTEGER,
            p_event_type VARCHAR,
            p_payload JSONB
        ) RETURNS TABLE (event_seq INTEGER, event_stamp TEXT) LANGUAGE plpgsql AS $fn$
        DECLARE
            v_active INTEGER;
            v_rows INTEGER;
        BEGIN
            -- The cap on active jobs: the user's row is locked first, and the jobs are
            -- counted by a statement of its own, which sees the jobs of every start that
            -- held the lock before this one.
            PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
            SELECT count(*) INTO v_active
              FROM processing_jobs j JOIN assignment_workspaces w ON w.id = j.workspace_id
             WHERE w.user_id = p_user_id AND j.status = ANY(p_active_job_statuses)
               AND j.workspace_id <> p_workspace_id;
            IF v_active >= p_max_active_jobs THEN
                RAISE EXCEPTION 'too many active jobs' USING ERRCODE = 'CWL01';
            END IF;
            EXECUTE format(
                'UPDATE assignment_workspaces w SET %s '
                'FROM jsonb_populate_record(NULL::assignment_workspaces, $1) r '
                'WHERE w.id = $2 AND w.generation = $3', cw_set_list(p_workspace_changes))
              USING p_workspace_changes, p_workspace_id, p_generation;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            IF v_rows = 0 THEN
                RAISE EXCEPTION 'another reprocess moved the workspace on' USING ERRCODE = 'CWC01';
            END IF;
            EXECUTE format(
                'UPDATE processing_jobs j SET %s '
                'FROM jsonb_populate_record(NULL::processing_jobs, $1) r '
                'WHERE j.workspace_id = $2 AND j.status = ANY($3)',
                cw_set_list(p_superseded_changes))
              USING p_superseded_changes, p_workspace_id, p_active_job_statuses;
            UPDATE feedback_records SET is_current = FALSE
             WHERE workspace_id = p_workspace_id AND is_current;
            INSERT INTO processing_jobs
            SELECT * FROM jsonb_populate_record(NULL::processing_jobs, p_job);
            RETURN QUERY SELECT * FROM cw_append_event(
                p_workspace_id, NULL, '{}'::JSONB, (p_job->>'id')::UUID, NULL,
                p_active_job_statuses, NULL, p_retention, p_event_type, p_payload);
        END
        $fn$;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP FUNCTION IF EXISTS cw_replace_plan_job(
            INTEGER, INTEGER, TEXT[], INTEGER, INTEGER, JSONB, JSONB, JSONB, INTEGER, VARCHAR,
            JSONB
        );
        DROP FUNCTION IF EXISTS cw_set_list(JSONB);"""


MODELS_STATE = (
    "eJztXW1z4jgS/isqvmxSxaQymczLZa+uihAyy05CZhPY3dvNlhG2AE+MzMr2ZKi9+e/Xkm"
    "2MX8FgwDj6MhNktWw/LUutR92tf2oTUyOGddKwLH1EJ4Tav5nsyZpildQu0D81iif8j6xq"
    "dVTD02lQiRfYeGAIOTwXUJ59CVEDDyybYdWGSkNsWASKNGKpTJ/aukmhlDqGwQtNFSrqdB"
    "QUOVT/2yGKbY6IPSYMLvz5Z82x4C+4qJoOs4iia+Imwd2h4K+/oEinGvkGjwBC/Of0SRnq"
    "xNBCL+sKi3LFnk1FWZva16Iif6aBopqGM6FB5enMHpt0XlunNi8dEUoYtglv3mYOf0n+Dh"
    "44/nu77xNUcR9xQUYjQ+wY9gIoAyUoqylK566rPLS6ilLLAaNqUq4CeFRLvP2IP8Krs9fn"
    "788/vHl3/gGqiMecl7z/7t46AMYVFPB0urXv4jq2sVtDYByAqjLCkVCwHQf3Cq7Y+oQkIx"
    "yWjCCteaIn/h9R3H2Us4D3CwLkgz65C+jhBbU7asw8lWfg3G3fth66jdvP/HYTy/rbEPg1"
    "ui1+5UyUziKlR++OebkJn5v7Uc4bQb+1uz8h/hP9cddpCXhNyx4xccegXvePGn8m7NimQs"
    "1nBWsLvdMv9VGDmoHWnam2ptbDklLrZdG6j9GC2r2nX/jWFwfhsNKbY8xSPvNFoYi+AbdD"
    "1PAEf1MMQkf2GH6+O8/Q8K+N++ZPjfujd+cRrXW8K2fi0vcQzOHpLQfUMUEJ9wpwWza2HS"
    "sZ5xZ1JgLrNjwSpq5ZFMI8kN4d2DWo6hBf/6sCXvul1+q1ri6QK/1I73udTrvz8QIxh1LQ"
    "AJS0Glf/hd8wgs0e6XWjfcPrD7FueHfLqazX71ZQ1uvoiBYoi18KK0t1GOP9G2AfkVzDUF"
    "RwLXV5c+NL+TSmzOTTR8LHkWo3L4ost56L+iJOS209B4Aa2LIVwpjJ4pD+/HDXScY0LBW1"
    "mXTVRv9Dhm6tgm7JOnAGeByOkF3kd9Sj28bv0T7cvLm7jBo8vIHL6PBhUpt8s5WBYQ7yaC"
    "AqJ3Wwvg6mBqa5FRASkuhviP5Xwiz+nDmG9YiYHNqjQ7v37vlgDQtJUJPny69pS6FUXGNy"
    "EtootCqmX7GlqGOiPuWaCiNycjBefzDm7Ha+jr0gsbsuXXJ6mhP+w6dEdtrfPgije20yoo"
    "/oJzKLre0joHr7Iz2vmQMD97vfe/zS4Itj+Hm+Q7LYqeDd4Y2J7a6mGw/NxlWrJhAeYPXp"
    "GTNNSYF6SIjG6yiMqCbTEtaMl14L15/uiZE26XmIX3ut3YvGKoR9mHpyBhPd4jbVhnDd6g"
    "axbJOSh3mLVcVs0RLdELXP0NSvgU1bRbS+mINNQWKmSqBH0dHP7uqrijD5rJUywexpc8BE"
    "W7fQVFXxEqb1hjjNXQ1avLEqIcWnS/PMXJgmQxNo/NLkbBItwRSPxCvxe/M7eag1sUGohl"
    "nXfCK0luDLEa5Qz/LiUL2qis3rrua/UeuOCeIGww8W8uURn/uRaAQd8c2DVyY1ZvXgOjMd"
    "m1iIlx7/KP5Dum2hMbbGSLeiOwtbuMUjfSJTu44w1aCmDT2TjuA6YgSmExjekA23ZOZzHV"
    "kmVEKmoaHe/Q2COXVqIe7iAgIntXqil4r0P9mj/4noEgpXc57doLBUMTt3+4V5yztB0s0n"
    "HfrDdPhYyc1n//zEwQ9eMXYifTEdtxuWMRl3lHRN+GfLPMZelbAdFmNDI4xzoE1GNLBcdW"
    "wk22GROktMMZdVnVfPb425N0RY5cu1OiJUZbMp6BhhbudYNjq6JowSG8wjCvY7QwbBXz3T"
    "B1qAkpMsS6yg5qX9VC77SU7sL3Jil/67FdP6Kv67A2wRxWFGnpXSokwF3UnP3r5dYakEtV"
    "LXSuJaxIHXscfKBOY3M5/7blhsh/6kU8Isk2LDJYJqO0H+zdkKwL85S8WdXwrD7i7qVX0K"
    "dgX31opj34XSLEIgLFuJ7p41fLV+72Zvac9Hr5u7zke/enSfO6wERoYwYI2VTZSR1UYV3H"
    "Z3rRMXR/JtqgOsa8z5SfIFzPwHpJVyT/Rx+87/gmANxqdvWFEmTPrZSk9pQuq9zHqXhJ0k"
    "7PauhBISdhF3ogS6Lu5wlE7WJbk6FRv4LikxSYmVcTVxoOSIpMReotZXocRszGDUdbUVU3"
    "uG/0BYrBJMwbZDdz3M8oW0h4QqCHPxnhpz4yRviF1McKPIjrLBLuPs9tjlCw5d0i3FC+eP"
    "I3tpmgbBNMUCDglGsB2A5LbA9c3j3Xbsy7u7m1DHvmxH2cLe7WULxnHRy6GS7q7A4pDPs3"
    "zlYxeiYrI7J2D7xRwkotrrta+SYQ0kIoA6jq6dcLlDJQ2SEHN3glxTY3HYFe+ZGf71vJjN"
    "bsMYsJQceQfWd1flZqIfbt64sCxm7EuSXZKTGNs4KqUMnX2pFoLvfNsEWVIAWQJLlhJnlk"
    "6VTXwBJRLrJvmyA5uvJF/2cpgTyZe9RK2vwpcF43k+HicqVwU3jq0nJpzPmEpeD5oE0UqQ"
    "Z7v2nJEsTvWXveXt0ksWvpKf2aETiCQVdkUqRMaIAlCuagqLKL656IIldE1x1MJdw7HH14"
    "awJ2OEQnCxnkUjmMI3fgj1VoyLu6PEj1gTt0D8O3ul0wuRFaDf52mbSb+PjhyL3wOZ0IHq"
    "PJSNh6up2DD4ux/X+U/K/6lFFFX4DR4pGMev+IIHqfD+ohpYboRyGwK0jeEF0dBkCCMuSa"
    "iGfv6tG2l+YDpQPpihz5+aLWSbbsOqocMAA3/D3eGxGA/aE1F57hMfbyMuL30S3wdvXfv3"
    "0KEq7xtI3In/c/6fWgln9AyWxY0QXSeGJ0G0EquBHYTyMKLpjKg24KbngTwqV0W8T88/rA"
    "I4VEtHXFyMJqZ0B8f8vTwsJyFfHXKYcRR1DADCnfKl1Y9JVhD24qmd9WNxCo/CKRv0h0uW"
    "xjlyYQQqjrUWTR4TlqE3ZdY157a5FhQxJOZNSJUsXQhLXu28VOZkyte5a+0+RmTl91Xm70"
    "vuMqd/ZIe531jODGQl+4QrlSC9ZNhuJ1BxZ8TqYvrqBGo1kt06nVyNZdReTq+2oPoMDXWq"
    "W2OiId5CHT3r9tilN93TkniC1WdsoQnWCBoyc/KjuDrfBUBTk2vCI0VjDOsW7vFIKXkmln"
    "2CeqILoilh6Is5EFlfESNwb7gTL1Ax9dKYwVgF1ywCN9SQh1IaY/pneHPI3wGWJxTv0z0t"
    "//a93LnP3rnf8wleZYN316FFpTjE7qUrYX5iADVtRcWMzxy5PocU+d0rZWFzbODohq1T64"
    "Tfbx/7Y9v5XuTK8QWuHKVHVPVd98oQxCMj1nYCs4xYK0NnL1HEWhjPJP4jCngGAzKvqvgH"
    "ZhUbnxYhBnSNTKamTag6U57IbDOCQLpaFe5qJQ3GF2gwyoC2qml9lYA2PmGlZ39qUWcSm9"
    "9jhu0hpIGqfb5pdC4Ei/5Ib9s3gBsAqly3WleXjeanCxRE6PmJgB5p4+Gh/bFz2+p0Fyri"
    "uVk5rxnl7lfxBSg+/zd3mHESDiVcTZGB9A4Tr0NVh2g5Z8faL71Wr3V1gVzpR3rf63TanY"
    "8XiDmUggYe6UOv2QSF8UqWo6qgJl7vugF6v+IPArqG381Gp9m6EUUqx8QwvGfZe64wUEY+"
    "P8S5gAwsXe4043OPOWiRRZHdUSKn2wK4YD7Ee/d8u0xhIQlqFFRGvGVZHNPMJF8huR3m+J"
    "qXHGySL7ANRk7OgXdRpnpjb/EzG7ZtWPsnnZ2cOlAsishhIpYMMMKl5Oi7CaIV7MJnq4SM"
    "QK30TnwWCxgBUwAeOfcOdERso73OkoG+601NwpjJhLd4nh4flqpeZ99CpI5AbALmROLEmJ"
    "6CJSZYBbR3nX/lGTO+oE2YLdMHmUUZ6U1R+MBjGBPFSf4Y0nUSEpJKKVwpXlj/elFmrFDu"
    "+oBGrHJT1fEdCt8Xeg01R0SlnsusZ/fItfVjhJPkpcbLrHHprCbTd+37Q9q6h1VSZsskct"
    "cTvv50T4w0fjw7H3VFFPA9V/RYwhEwbH6YXTLEvgvbcqDjx+Md5GQRh3j1bJ/5QYtE4FUE"
    "sfx+emLn8Bazp1qym15wvb7ES88NmZhA1RUDFbs8z5ntaDBE/2Ah85kikVYDmUMEowaysf"
    "WEjvp9DX70+8fIZIEfBC93nQL6/XotgllhDT/Sft875EoTGeOOkU5FE7w3+gGHPyJ4VZ7E"
    "bUIwtZBDbdNRwZxfMRAx2rGfoE/x/3WbTPhgLgMU9xmgKJMMb293yO/pqxLkfv0yu3KVZi"
    "/THz5y4LsgUkGIi99+4PNHgimS5f/gi6zn+lBOK2TLjg9ZnoOptOkm3oIlQ3lHR39yAyeZ"
    "y0oGOSKWRWEdHuYZGHNKKoKgdE5P77zVdU6XtKCkBfc9QO0h8LK4IEGRlyqBdPDzVaWTDT"
    "znU45c87y6yCbk5YQfw0CAMNX83+K67q7XY3nk8wgnLva9BN9cjtfxfvppq+TqXp6OV8oR"
    "5kBnbhlM+BK1voq9FhmHV11MRsQqSIxs5WyGyDSXH/D0VKFVwLx4Mkr8nwNmv/4OAyprh9"
    "udwYKlGoZRwGGWAtagouGEaIZrw8RpcSIpDUTgH/IWqsWX3PUub1ro832r2X5oe+6V83lB"
    "XAwzgPetxk381BGOHlMYmfA3TMiKm3n0SFy4esTgKoEk6WEkIogktgJfxV1kvsLc0Fuk2u"
    "vyUHeOHJi2PmahA9oOq/MW7VYz/8pt84kU4iDS9Frs+g1WBOAEKw0Ws9xXQscJZzqtAxxv"
    "tBlqsyLY5WS45iNZ6ysRjcS4rkiNehbrFXB5hFfO4WSjOYw34p1BSDQkGkCGOUIDMgaQ0c"
    "NDCzEyNfCMO8DcYMt+JZ7oVfuq3z+OM2OFtbrcP8Yif2/Gkl3qo5dClP3r7OzNm/dnp2/e"
    "fXh7/v792w+nc8YsfimLOrtsf+TsWchaWE6ncVXF4E/F3qstN0DKk8SznONwEmQ5jt8Ww5"
    "ILR45lQ1iqghRE8TmepngGy9d8mbYDEZnxXKbRlpS2TKMtXRAOA/AquCA0CNPVcS1hYeZd"
    "qWctyHBQp9CExNIloIwnEqWbiul+/lWwE7eznwIfVQ6EveoVRPf16ekqDr2np+kevfxawi"
    "FENMEUXHL+EE20AaUhvsQQz7FvUvxk9v3/xw7lbA=="
)
