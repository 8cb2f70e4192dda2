SELECT
  "p"."profile_id"
FROM profiles AS p
WHERE
  (
    "p"."profile_id" IN (
      SELECT
        "profile_id"
      FROM (
        SELECT
          "r"."profile_id",
          CAST(SUM(CASE WHEN (
            "e"."event" = 'Email Opened'
          ) THEN 1 ELSE 0 END) AS DOUBLE) / NULLIF(SUM(CASE WHEN (
            "e"."event" = 'Email Delivered'
          ) THEN 1 ELSE 0 END), 0) AS value
        FROM events AS e
        JOIN (
          SELECT
            message_id,
            COALESCE(user_id, anonymous_id) AS profile_id
          FROM events
        ) AS r
          ON "r"."message_id" = "e"."message_id"
        WHERE
          (
            (
              NOT "r"."profile_id" IS NULL
              AND "e"."timestamp" <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
            )
            AND (
              (
                (
                  "e"."event" = 'Email Opened'
                )
              )
              OR (
                (
                  "e"."event" = 'Email Delivered'
                )
              )
            )
          )
          AND (
            "e"."timestamp" > CAST('2026-10-22 12:00:00' AS TIMESTAMP)
            AND "e"."timestamp" <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
          )
        GROUP BY
          "r"."profile_id"
        HAVING
          SUM(CASE WHEN (
            "e"."event" = 'Email Delivered'
          ) THEN 1 ELSE 0 END) >= 1
      ) AS m
      WHERE
        "value" BETWEEN 0.2 AND 0.3
    )
  )
  AND NOT (
    (
      NOT COALESCE((
        "p"."accepts_marketing"
      ), FALSE)
    )
    OR (
      "p"."profile_id" IN (
        SELECT
          "r"."profile_id"
        FROM events AS e
        JOIN (
          SELECT
            message_id,
            COALESCE(user_id, anonymous_id) AS profile_id
          FROM events
        ) AS r
          ON "r"."message_id" = "e"."message_id"
        WHERE
          (
            NOT "r"."profile_id" IS NULL
            AND "e"."timestamp" <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
          )
          AND (
            (
              "e"."event" = 'Unsubscribed'
            )
          )
      )
    )
  )
