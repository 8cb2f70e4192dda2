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
          "f"."profile_id",
          MAX("f"."ts") AS value
        FROM (
          SELECT
            "r"."profile_id",
            "e"."timestamp" AS ts
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
                  "e"."event" = 'Product Added'
                )
              )
            )
            AND (
              "e"."timestamp" >= CAST('2026-11-01 00:00:00' AS TIMESTAMP)
              AND "e"."timestamp" <= CAST('2026-11-19 23:59:59.999999' AS TIMESTAMP)
            )
        ) AS f
        WHERE
          NOT EXISTS(
            SELECT
              1
            FROM (
              SELECT
                "r"."profile_id",
                "e"."timestamp" AS ts
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
                      "e"."event" = 'Order Completed'
                    )
                  )
                )
                AND "e"."timestamp" > CAST('2026-11-01 00:00:00' AS TIMESTAMP)
              UNION ALL
              SELECT
                "r"."profile_id",
                "o"."ordered_at" AS ts
              FROM orders AS o
              JOIN (
                SELECT
                  order_id,
                  customer_id AS profile_id
                FROM orders
              ) AS r
                ON "r"."order_id" = "o"."order_id"
              WHERE
                (
                  (
                    NOT "r"."profile_id" IS NULL
                    AND "o"."ordered_at" <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
                  )
                  AND LOWER(COALESCE("o"."status", 'completed')) IN ('completed', 'partially_refunded')
                )
                AND "o"."ordered_at" > CAST('2026-11-01 00:00:00' AS TIMESTAMP)
            ) AS b
            WHERE
              (
                "b"."profile_id" = "f"."profile_id" AND "b"."ts" > "f"."ts"
              )
              AND "b"."ts" <= "f"."ts" + INTERVAL '2 DAY'
          )
        GROUP BY
          "f"."profile_id"
      ) AS s
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
