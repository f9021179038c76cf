from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "oauth_flows" (
    "id" UUID NOT NULL PRIMARY KEY,
    "canvas_base_url" VARCHAR(255) NOT NULL,
    "redirect_uri" VARCHAR(2048) NOT NULL,
    "callback_url" VARCHAR(2048) NOT NULL,
    "code_challenge" VARCHAR(64) NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "state_used_at" TIMESTAMPTZ,
    "one_time_code_hash" VARCHAR(64) UNIQUE,
    "completed_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" INT REFERENCES "users" ("id") ON DELETE CASCADE
);
COMMENT ON TABLE "oauth_flows" IS 'One Canvas OAuth sign-in: its ``state`` (usable once, at the callback), then the';
        ALTER TABLE "canvas_credentials" ADD "refresh_lease_until" TIMESTAMPTZ;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "canvas_credentials" DROP COLUMN "refresh_lease_until";
        DROP TABLE IF EXISTS "oauth_flows";"""


MODELS_STATE = (
    "eJztXWtT27ga/iuafDl0hjI00Mthz5yZEEI3LYQeCNs9u+wYxVYSF0dOZbk0s4f/fiTZjm"
    "35Ejs3HKMvLZH1Svbz6vZe9XdjYhvIcg5ajmOO8ARh+tUmD84U6qhxAv5uYDjhf+RV2wcN"
    "OJ2GlXgBhQNL0ME5gfYYUIgacOBQAnXKKg2h5SBWZCBHJ+aUmjZmpdi1LF5o66yiiUdhkY"
    "vN7y7SqD1CdIwIe/Dnnw3XYX+xh7rtEgdppiE6CXtnBX/9xYpMbKCf7BUYEf85fdCGJrKM"
    "2Md6xKJco7OpKOtiei4q8ncaaLptuRMcVp7O6NjG89omprx0hDAikCLePCUu/0j+DT44wX"
    "d73xNW8V4xQmOgIXQtGgFloIVlDU3rXfW1m05f0xolYNRtzFnAXtURXz/ir/C6+eb4/fGH"
    "o3fHH1gV8ZrzkvdPXtchMB6hgKfXbzyJ55BCr4bAOARVJ4gjoUGaBPeMPaHmBKUjHKeUkD"
    "Z80oPgDxn3AOU84IOCEPlwTG4DevaBxhW2Zj7Lc3Dudy87N/3W5Rfe3cRxvlsCv1a/w580"
    "RelMKt1794qX22y6eZNy3gj42u3/CvhP8MdVryPgtR06IqLHsF7/jwZ/J+hSW8P2owaNyO"
    "gMSgPUWM2Q6+7UWJLrcUrF9apwPcAownb/7SNzPboIx5neHkOSMc2jRBK/GW67yOEJ/KlZ"
    "CI/omP18d5zD4d9a1+1fW9d7744lrvX8J03x6CkGc3x7KwF1glDBXQBuh0LqOuk4d7A7EV"
    "h32StB7B2LYpiH1NsDu8Gquijgf1HAG/+57dx2zk6AR32Hr297vW7v4wkgLsaMA6yk0zr7"
    "L/vNVrDZHT5vdS94/SE0Lb+3ksx6864As97IK1rILP4ozizdJYSPbwb7CJVahmTCpdjl74"
    "0vZWpMic23j5TJkXlujpIsPj2va0YcVvr0HAJqQYdqiBCbJCH9dHPVS8c0TiWfmUydgv8B"
    "y3SKoFuxAZwDHocjdi4KBureZet3eQy3L65O5QMPb+BUXj5sTNFPqg0se1CGAzKd4sHyPJ"
    "haEJdmQIxIob8i+j8Qcfh7lljWJTK1tMtLu//t5WCNEylQ0/fLH1miUCauCToFrQwt16yW"
    "AzVCsT04K64a5crm4UOqZjRQXcfRPbcJYkL6ZzRLyJUSqL5u/tZvZsfAfQpGT1Aabr0EPs"
    "6189FBxb6dfTGiniTXumm3zjoNgfAA6g+PkBhaBtRDhAxeRyNIt4mRIq+c+i2cf75GVtaC"
    "6yN+7rd2LRqrEfZxtYc7mJgO389XhOvStJBDbYxu5i3WFbPoKWhF1L6wpn4Lz1N1ROubPV"
    "gVJGLriI0oPPrknfzrCJM4pqwI1Nxs2+GN1QkpvvzbTTuy7Mc2hOSjSXMil0AMR+KTeN+8"
    "Jx+1NsQ/oNMmyGCgmdBqpJjGE3X28+ziuqit6fPqxYzijf4YAb4T/sMBXocA6nzk7wOEdT"
    "KbMj4CSAGT6yjYO0cEI/rqF4DZ0CHAQvAHcgBlTbAWWMmBrKrdQPMpxnplhldm+CouLTtq"
    "kFVm+JfI9SJm+AF0kOYSq4z5K0pTQ6tw8+3bArYvVivT+CWeSXZ4l461Cdvf7HJW+DjZFs"
    "3CUyZP2BhabFt+QLikeXhJ5I+aBYA/ambizh/FYRcvr+nmlJ0ruNEliX2flaZjn0Zbi+Ge"
    "t3x1fu/nmwnmq9fFVe9jUF22HcSZQNCQLVhjbRVm5LVRB+v7tnni4Yh+Tk0G6xJ7fhr9Gn"
    "b+HeJKtTf65PkumEFMBuPbN5MoUzb9fKZnNKH4XmW+V8A2s/PScsIyk21ISOqYFllxrjDq"
    "2+yfDdtwnpUJm7HgrKSwkywzKeq6pO0mW1mXZjVab/yKUokplVgVpYkdVY4oldhL5HoRlR"
    "iFhK26HrcSbM9W1UhktdAUbNoD38esXGRKjKiGMK/f9X5+OCnrKZsgXMlbtmqwK3fZZxzy"
    "a/ZANB3Nj8pJIntq2xaCOOMEHCOUsB0wyk2BGxyPtzuwT6+uLmID+7QrawtvL087bB0Xo5"
    "xVMj0JLAn5PFi/nHZBJlPDOQXbb/YgFdXb2+5ZOqwhhQSo65rGAafbVaVBGmKeJcg7akSX"
    "XfGduZ60j9GkFCu602akutixsVtUNyNP3LIutnmasW9p55KSirGVHfyqMNgXciGc55tWkK"
    "X54qZoyTJcdrNVZZOAQJPchpW+bMf2K6UvezmaE6Uve4lcL6IvC9fzcnocma4Obhwbzy8y"
    "3zG1sh40KaS1UJ5t23NGaXHqL/ZWd0gvEHyVfmaLTiBKqbAtpYK0RqwB5bpGA8r4llIXLF"
    "DXrE+1cNVy6fjcEufJhEIhfLifp0awhW/8kNUrGBd3hVEQsSa6AHyevTbxCTCpA+7vefY1"
    "dH8P9lyH9wFsNoD2eSgbD1fToWXxb3+1z39i/k9DYtTaO7jD7HD8mgs8QGffL6qxkxvC/A"
    "zBuA3ZB4KhTQAEnBJhA3z62peaH9guKx/MwJfP7Q6gttewbplsgWF/s97ZaxEetCei8rw3"
    "frWJuLzsTfw59NaNfw1drPOxAURP/J/jfzcquKPnaFm8CNFlYnhSSGshDWwhlIcgwyRIpw"
    "w3swzkMl0d8T48/lAEcFYtG3HxUEq15i+O5Ud5nE5BXhxytuNo+pgByHoqlx0zQVlD2Nev"
    "2lk+FmftUThVg353laVJHbk4BGqus5SaPEGsQm+qzGuu2+Zc0MSSOIbOuMw6mk69Fi3589"
    "oeN7yQ6vZkyuXcpayPEq2aX1WeX8rKnD3JdtPeWMjKvPWAxopN4VrlmqwYtpsJVNyaYjWa"
    "CTBFtSolCsxWriaSEy5Wr3ZY9RkYmth0xsgAvIV98GjSsafe9JKeA5OCR+iACTQQGBJ78o"
    "t4OrcCgKnNOeErRRMa1g30cYcxekQOPQC3YgiCKSLgmz0Ajg0gIIj1zXriBTrEfhoztlax"
    "Zw5iHRrARylLY/pn3DgUWIDVRWPP6Z5W3nyvLPf5lvtnTsRfNXi3HVpUibsoXjwTlDjyAs"
    "UR5WZTf3+wKkSGqDCorcCswqCqMNgrFAYVxzNNqJYBzxGr51W1IKH9ui+5jk1s00CTqU0R"
    "1mfaA5qtJnUq/521+++oA+MLPDCqKKm6cb1IlBTfsLJTCi2+GzhKX2V/msaXi1bvRKhm7/"
    "Bl94LhxgDVzjuds9NW+/MJCMO+guwyd7h1c9P92Lvs9PqRipEbqIOaskK4iIF5/Uml1SXP"
    "80ueb27bbcYwXslxdZ2xideLX/Z8h9utXrtzIYp0jolVmSugS1/9rK58Vlc+P58+RN0Lug"
    "FQCfLFsiSmuZmjYnRbTBw1L9nZzFGQUiaXpt1TljmIoyRqCCeyn0lyfokNLYW0flvbm2YR"
    "H3lWK/vo0Ex4yLNtir1yaZObRKbuH1/e4IYIsYlwjy0z4uNU9RvsGwhNEIhN2FaXelrOzj"
    "mRIKwD2ttOOPEICRe2UnbL7EUmSrN9m35ENztwTYua2Dng/T2HenYjC49lTTQ3fTJk8yRG"
    "pJiydqb4cczLhdWQtepVd2jFqrYaNak9D5w/l2CzRKr4XGU+e3dMLR8UmUavOF5ljitHKp"
    "Wv6Lkn0sa9f9JS+aUpHn3i88/XyMrS3eYn4K0JA55Khcuk3HlB5rd3pUMcuFctBjp5H9hO"
    "bhZJiIunNywPmhRyVBPESvqQiVi4FNexIEYu22OMx5mVyG/Fq4sIJj8P1Zjt0QBiI/gtnp"
    "uGCFZK5K4qQ5zqe+YnFeJ0vI7/MwiVUyFPKiN3JbeeHfU6Ur5mL5HrRXzNpHW4qGFEIquy"
    "l9mSppGN5IOTtrnygGenJ6gD5us3R4n/S8Ac1N+iv92mdOobGs4JVUERAXYuCq8ov9ZbgR"
    "BPCBXPWbs8ZrEcuTWSqZYQ9P1FlJ1SDTaETJiSILK81OpJPO1YmzWCuYToOp+TnR9INJIQ"
    "YqUa+3nibKg+Q7xyQcm2P0bAcAlvxE9ojAwgGgCWPQIDNGYgg5ubDiBoasEZ2Lu/v4AOfS"
    "3e6HX37P7+VVLkXVuri+OwHPR9NfH31By9FAn4n83m0dH75uHRuw9vj9+/f/vhcC4KJx/l"
    "ycSn3Y9cLI7tfIvlZM6qBPyZ2Pu1lc2hOsHb1VyHl4ocjHhg8SUnJ34ow/0qRlVD2WL9sT"
    "1TOLNsmDJqc7LYhCQqfYpKn6J0VSp9irL67wbgz5fzY335KVqImPq4kSKY+U/28wQyGNZR"
    "t+/u0jzfz5FhMs332UfF7PyGdTgnbkTvzydVCYT96jVE983hYZHoqsPD7Ogq/iwloyFOOQ"
    "ouSGaIU8+A6iC+4CBewgKw/s3s6f+UrkNd"
)
