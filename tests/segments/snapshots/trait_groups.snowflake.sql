SELECT
  "p"."profile_id"
FROM profiles AS p
WHERE
  (
    (
      "p"."total_spend" BETWEEN 100 AND 500
    )
    AND (
      (
        LOWER("p"."gender") IN ('female', 'other')
      )
      OR (
        NOT (
          COALESCE((
            CHARINDEX('york', LOWER("p"."city")) > 0
          ), FALSE)
        )
      )
    )
    AND (
      "p"."first_order_at" > CAST('2026-11-15 12:00:00' AS TIMESTAMP)
      AND "p"."first_order_at" <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
    )
    AND (
      "p"."days_since_last_order" > (
        "p"."average_days_between_orders" * 2
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
