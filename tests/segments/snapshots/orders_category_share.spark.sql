SELECT
  `p`.`profile_id`
FROM profiles AS p
WHERE
  (
    `p`.`profile_id` IN (
      SELECT
        `profile_id`
      FROM (
        SELECT
          `r`.`profile_id`,
          CAST(SUM(
            CASE
              WHEN COALESCE((
                LOWER(`pr`.`category`) IN ('apparel')
              ), FALSE)
              THEN `ol`.`quantity` * `ol`.`unit_price` - COALESCE(`ol`.`discount`, 0)
              ELSE 0
            END
          ) AS DOUBLE) / NULLIF(SUM(`ol`.`quantity` * `ol`.`unit_price` - COALESCE(`ol`.`discount`, 0)), 0) AS value
        FROM orders AS o
        JOIN (
          SELECT
            order_id,
            customer_id AS profile_id
          FROM orders
        ) AS r
          ON `r`.`order_id` = `o`.`order_id`
        INNER JOIN order_lines AS ol
          ON `ol`.`order_id` = `o`.`order_id`
        LEFT JOIN products AS pr
          ON `pr`.`product_id` = `ol`.`product_id`
        WHERE
          (
            NOT `r`.`profile_id` IS NULL
            AND (
              `o`.`ordered_at` > CAST('2026-08-22 12:00:00' AS TIMESTAMP)
              AND `o`.`ordered_at` <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
            )
          )
          AND LOWER(COALESCE(`o`.`status`, 'completed')) IN ('completed', 'partially_refunded')
        GROUP BY
          `r`.`profile_id`
      ) AS m
      WHERE
        `value` > 0.75
    )
  )
  AND NOT (
    (
      NOT COALESCE((
        `p`.`accepts_marketing`
      ), FALSE)
    )
    OR (
      `p`.`profile_id` IN (
        SELECT
          `r`.`profile_id`
        FROM events AS e
        JOIN (
          SELECT
            message_id,
            COALESCE(user_id, anonymous_id) AS profile_id
          FROM events
        ) AS r
          ON `r`.`message_id` = `e`.`message_id`
        WHERE
          (
            NOT `r`.`profile_id` IS NULL
            AND `e`.`timestamp` <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
          )
          AND (
            (
              `e`.`event` = 'Unsubscribed'
            )
          )
      )
    )
  )
