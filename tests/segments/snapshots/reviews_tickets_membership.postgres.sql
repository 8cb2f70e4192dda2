SELECT
  "p"."profile_id"
FROM profiles AS p
WHERE
  (
    (
      "p"."profile_id" IN (
        SELECT
          "r"."profile_id"
        FROM reviews AS v
        JOIN (
          SELECT
            review_id,
            customer_id AS profile_id
          FROM reviews
        ) AS r
          ON "r"."review_id" = "v"."review_id"
        WHERE
          (
            NOT "r"."profile_id" IS NULL
            AND (
              "v"."reviewed_at" > CAST('2025-11-22 12:00:00' AS TIMESTAMP)
              AND "v"."reviewed_at" <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
            )
          )
          AND "v"."rating" <= 2
      )
    )
    AND (
      NOT "p"."profile_id" IN (
        SELECT
          "r"."profile_id"
        FROM tickets AS k
        JOIN (
          SELECT
            ticket_id,
            customer_id AS profile_id
          FROM tickets
        ) AS r
          ON "r"."ticket_id" = "k"."ticket_id"
        WHERE
          NOT "r"."profile_id" IS NULL
          AND "k"."created_at" <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
      )
    )
    AND (
      "p"."profile_id" IN (
        SELECT
          "profile_id"
        FROM (
          SELECT
            "p"."profile_id"
          FROM profiles AS p
          WHERE
            LOWER("p"."lifecycle_stage") = 'loyal'
        ) AS sg
      )
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
