from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "calendar_tokens" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" INT NOT NULL UNIQUE REFERENCES "users" ("id") ON DELETE CASCADE
);
COMMENT ON TABLE "calendar_tokens" IS 'The user''s calendar feed token (read-only, calendar routes only); only its hash is';
        CREATE TABLE IF NOT EXISTS "progress_marks" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "plan_version" INT NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "item_id" VARCHAR(64) NOT NULL,
    "done" BOOL,
    "status" VARCHAR(16),
    "target_date" DATE,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "workspace_id" INT NOT NULL REFERENCES "assignment_workspaces" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_progress_ma_workspa_446d04" UNIQUE ("workspace_id", "plan_version", "kind", "item_id")
);
COMMENT ON TABLE "progress_marks" IS 'The student''s own state of one task (``done``) or milestone (``status``,';
        ALTER TABLE "plan_versions" ADD "progress_not_carried" JSONB NOT NULL;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "plan_versions" DROP COLUMN "progress_not_carried";
        DROP TABLE IF EXISTS "calendar_tokens";
        DROP TABLE IF EXISTS "progress_marks";"""


MODELS_STATE = (
    "eJztXW1z2zYS/isYfak9o3gcx3k59+ZmZFlO3dhyasttr3WHgkjYYkyBKkjG0fTy328Bkq"
    "IIvkiUKImi8SWxQCxIPgsCiwe7i38aI9sglnPQchzzkY4IdX+z2ZMzxjppnKB/GhSP+B95"
    "1ZqogcfjqBIvcPHAEnJ4KqA9hxKiBh44LsO6C5UesOUQKDKIozNz7Jo2hVLqWRYvtHWoaN"
    "LHqMij5t8e0Vz7kbhDwuDCn382PAf+gou67TGHaKYhbhLdHQr++guKTGqQb/AIIMR/jp+0"
    "B5NYRuxlfWFRrrmTsSi7oO65qMifaaDptuWNaFR5PHGHNp3WNqnLSx8JJQy7hDfvMo+/JH"
    "+HAJzwvf33iar4jzgjY5AH7FnuDCgDLSpraFr3uqfddnqa1igAo25TrgJ4VEe8/SN/hFdH"
    "r4/fH3948+74A1QRjzktef/dv3UEjC8o4On2Gt/Fdexiv4bAOAJVZ4QjoWE3Ce4ZXHHNEU"
    "lHOC4pIW0EogfhHzLuIcp5wIcFEfJRn9wE9PCCxjW1JoHKc3DuXVx1bnutq8/8diPH+dsS"
    "+LV6HX7lSJROpNK9d/u83IbPzf8op42g3y56PyH+E/1x3e0IeG3HfWTijlG93h8N/kzYc2"
    "2N2s8aNmZ6Z1gaogY1I617Y2NJrcclldarovUQoxm1B08/863PDsJxpbeHmGV85rNCkr4B"
    "t13U8Ah/0yxCH90h/Hx3nKPhX1s37Z9aN3vvjiWtdYMrR+LS9xjM8emtANQJQQX3AnA7Ln"
    "Y9Jx3nDvVGAusLeCRMfbMohnkkvTmwG1DVI6H+FwW88ctd565zdoJ86Xt6c9ftXnQ/niDm"
    "UQoagJJO6+y/8BtGsMk9PW9dXPL6D9i0grsVVNbrdwso67U8okXK4pfiytI9xnj/BtgfSa"
    "FhSBZcSl3B3PhSPo0xs/n0kfJxZNrNsyLzreeyvojDSlvPEaAWdlyNMGazJKQ/31530zGN"
    "S8k2k6m76H/IMp1F0K1YB84Bj8MRs4vCjrp31fpd7sPty+tT2eDhDZzKw4dNXfLN1QaWPS"
    "iiAVlO6WB5HYwtTAsrICak0F8R/a+EOfw5Cwzrkpga2uWhPXj3YrDGhRSo6fPl16ylUCau"
    "CTkFrQwtZ1aLgTojsTk4K06NcrL54SmVGQ2p6zi65zYjsEj/RCaJdaUEasDN3wXN7Bi438"
    "PeE5ZGUy/Dz1N2frZTwbvDGxPXX8m1btuts05DIDzA+tMzZoaWAfUDIQavozGi28xIWa+c"
    "Bi2cf7ohVtaAGyB+HrR2IxqrEfZx2sMbjEyHz+crwnVlWsRxbUpupy3WFbNZK2hF1D5DU7"
    "9G9lQd0fpiD1YFidk6gR5FH3/2Lf86whQyJtoIs6fVARNtXUFTdcVLmHUr4jTd5u7wxuqE"
    "FJ8u7SN7ZpqMTaDJS6OjkVyCKX4Ur8Tvze8UoNbGFqEGZj37idBGih9BvEIzz4NAD6pqLq"
    "+7mO9AozckiBsMPzgolEd87keiEbTHietXNrUmzeg6sz2XOIiX7v8o/kOm66AhdobIdGRW"
    "ew23uKdPZOw2EaYG1HShZ9JHuI4YgekEhjfkwi2Z/dxEjg2VkG0Z6O7mEsGcOnYQd68AgY"
    "NGM9VDQvk+bNH3QXQJjau5yE5EXKqcXaPtwrzmXQjlYpIN/W46GyzkYrJ9fmLnB68EO5G9"
    "mE7aDfOYjGtKejb8s2YeY6tKWA+LsaIRRr9ip82IAZaria10O0yqM8cU47U1fVq9uDXm3x"
    "BhnS/XmohQnU3GoGOEuZ3juGjvnDBKXDCPKNjvDFkEfw1MH2gBSg7yLLGSmlf2U7XsJzWx"
    "v8iJXfmO1kzri/iODrBDNI9ZRVZKszI1dGU8evt2gaUS1MpcK4lrkvOo5w61EcxvdjHX0b"
    "jYBn0Zx4Q5NsWWTwQ1NoL8m6MFgH9zlIk7vxSH3V/U6+YY7AruKZTEvgeleYRAXLYW3T1v"
    "+Or83ouNXAnflunodXnd/RhWlx1e4kpg5AEGrKG2ijLy2qiDy+imdeLjSL6NTYB1iTk/Tb"
    "6EmX+HtFLtiT5p34VfEKzB+PQNK8qUST9f6RlNKL1XWe+KsFOE3daVUEHCTnInSqHrkg5H"
    "2WRdmqtTuUHXihJTlFgVVxM7So4oSuwlan0RSszFDEZdX1sJtef4D8TFasEUrDtsNMCsWD"
    "h1TKiGMJfvqTE1ToqGdyUEVwrxqhrsKsZri12+5LAZ09GCUPIksqe2bRFMMyzgmKCE7QAk"
    "1wVuaB5vtmOfXl9fxjr26YXMFt5dnXZgHBe9HCqZ/gosCfk0w1QxdkEWU905Bdsv9iAV1b"
    "u7i7N0WCMJCVDPM40DLrerpEEaYv5OkG9qzA674j1zw7+eZzOprRgDlpGfbcf67qLcjPzh"
    "Fo0Ly2PGvqTZJQWJsZWjUqrQ2edqIfrO102QpQWQpbBkGXFm2VTZKBTQpFg3xZft2Hyl+L"
    "KXw5wovuwlan0Rviwaz4vxOLJcHdw41p4UbzpjakU9aFJEa0GebdpzRrE49V/2VrdLz1n4"
    "Kn5mg04gilTYFKkgjREloFzXFBYyvoXogjl0TXnUwnXLc4fnlrAnE4RCdLGZRyPYwjf+Ae"
    "otGBd3TUkYsSZugfh39sqkJyIrQL/PUwaTfh/teQ6/B7KhAzV5KBsPV9OxZfF332/yn5T/"
    "05AUVfoN7ikYx6/4ggfp8P6iGlhuhHIbArSN4QXRg80QRlySUAP9/FtPan5ge1A+mKDPn9"
    "od5Np+w7plwgADf8Pd4bEYD9oTUXn+E++vIy4vexLfBm/d+PeDR3XeN5C4E//n+D+NCs7o"
    "OSyLHyG6TAxPimgtVgMbCOVhxDAZ0V3AzSwCuSxXR7wPjz8sAjhUy0ZcXJRSTQSDY/FeHp"
    "dTkC8OOcw4mj4EAOFOxVK6JyRrCHv51M7ysTilR+FUDfrdJUuTHLkwAjXPWYomTwir0Jsq"
    "65pz21wLmhgSiyakSpcuhSWvd14qezTm69yldh8lWfV9Vfn7UrvM2R/Zbu43VjMDWcU+4V"
    "olSK8YtusJVNwYsTqbvjqFWpWyW2eTq4mM2vPp1Q5Un6AHk5rOkBiIt9BEz6Y79OlN/6Qe"
    "nmD1GTtohA2CHpg9+lFcne4CoLHNNRGQogmGdQ33uKeUPBPHPUB3oguiMWHoiz0QWV8RI3"
    "BvuBMv0DEN0pjBWAXXHAI3NFCAUhZj+md8cyjcAVan427TPa349r3auc/fud/y6VFVg3fT"
    "oUWVOEDtpSthemIAtV1Nx4zPHIU+hwz5zStlZnNs4JmWa1LngN9vG/tj6/le1MrxBa4clU"
    "dU/V33qhDEoyLWNgKzilirQmevUMRaHM80/kMGPIcBmVbVwgOzyo1Pk4gB0yCjse0Sqk+0"
    "JzJZjSBQrlalu1opg/EFGowqoK1uWl8koI1PWNnZnzrUGyXm94RhuwtpoBqfL1vdE8Gi39"
    "Ori0vADQDVzjuds9NW+9MJiiL0wkRA97R1e3vxsXvV6fZmKuKpWTmtKXP3i/gClJ//mzvM"
    "eCmHEi6myEh6g4nXoapHjIKzY+OXu85d5+wE+dL39Oau273ofjxBzKMUNHBPb+/abVAYr+"
    "R4ug5q4vXOW6D3M/4goGv43W51251LUaRzTCwreJat5woDZRTzQ5wKqMDS+U4zIfdYgBaZ"
    "FVHnuMt8SPDuxXaZ4kIKVBlURoJlWRLT3CRfMbkN5vialuxski/surAuTTvXN7MTz4qoLp"
    "xIVCet8wtMaCmi9ZvaXh8tEs4AtbJNh6NEMANMU/DIhXdHJbGV9uEqBvqmN9wIYzYTnsxF"
    "enxcqn6dfQ1RJAKxEUx1qdZydnqQhGAd0N50bpBnzPhiK2W2zB5kZmXUTn/pA49ljTQv/W"
    "PI1klMSCmldKUEIefLRUCxUnnVHRqxqk2jJtnz0E93CTVLokrPVdazfxzY8vGrafJK41XW"
    "uHKkUqmltv0hrd37Jy3rYhrxGAiff7ohVhZ3m58ruSYK+F4osinleBI2PWgtHeLQvWo+0M"
    "mj23ZyskhCvHgmyuKgSdFhNUGsuA+Z2NW6wuypke5CFl1vzvEg8935R1B1wSC6Hs/B5XoG"
    "DNE/OMh+pkikfED2A4JRA7nYeUJ7/b4BP/r9fWSzaI+el/sb1v1+syFhVlrD97TfDw5gMk"
    "Q2s31kUtEE741hMNyPCF6VJxgbEUwd5FHX9nQw5xcMkpM79hP0Kf6/6ZIRH8xV8Nw2g+dU"
    "Atz17Q6FPX1RgjysX2U3o2U3gkr3IAmHjwL4zojUEOLytx/4/JFiiuTtzYciy23LV9MKWf"
    "OmfJ5XWyZtuoonW8VQ3tCxlNzASeey0kGWxPIorN3DPAdjTklJCCrH6ezOW1/HaUULKlpw"
    "2wPUFoICywtgEzmTUkiHMJdSNtnA8xEVyIPOq4tMN0G+8iEMBAhTI/wtrpv+ej2R47yIcO"
    "piP0g+zeV4neBnmFJJre7VyW2VHGF2dOZWgW4vUeuL2GvSOLzoYlISqyExspZzA6Rprjjg"
    "2Wks64B5+WSU+L8AzGH9DQb7NXarOycWJIvsnk8N7hU3z+u9TIn1XOlso+Uxi52ltJOEU2"
    "leBjqG78HADNYiT6SU/fJ20GIvbLAmAKdMWmDb861jE6ccv7IMcLzRdqzNmmBXcME/Hck6"
    "X4loJLH0l2o080iAiNogvHIBnwPDY7yR4LgwYiDRALLsRzQgQwAZ3d52ECNjC0+4P8Aldt"
    "xX4oleXZz1+/tJoqC0Vue7Czjk79VIg1Pz8aXwBv86Onrz5v3R4Zt3H94ev3//9sPhlEBI"
    "XspjEk4vPnIyIWYvzGcXuKoS8GdiH9RWfHB18u1VcxxOg6zASbliWMpJ+ZIRMReTquGKrP"
    "x0LGM8sWxcLCluJKKSE6uMt4rhUxlv1Y7sbgBehx3ZFmGmPmykLMyCK828BRmO6pSaO1Tt"
    "kFbx8JBsUzHb7bkOduJadkv4R1UA4aB6DdF9fXi4iH/j4WG2gyO/lnJeCE0xBeccFUJTbU"
    "BliM8xxAvsm5Q/mX3/P8kgBGM="
)
