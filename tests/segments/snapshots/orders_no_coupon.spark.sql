SELECT
  `p`.`profile_id`
FROM profiles AS p
WHERE
  (
    NOT `p`.`profile_id` IN (
      SELECT
        `r`.`profile_id`
      FROM orders AS o
      JOIN (
        SELECT
          order_id,
          customer_id AS profile_id
        FROM orders
      ) AS r
        ON `r`.`order_id` = `o`.`order_id`
      WHERE
        (
          (
            NOT `r`.`profile_id` IS NULL
            AND `o`.`ordered_at` <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
          )
          AND LOWER(COALESCE(`o`.`status`, 'completed')) IN ('completed', 'partially_refunded')
        )
        AND (
          LENGTH(TRIM(COALESCE(`o`.`coupon_code`, ''))) > 0
          OR COALESCE(`o`.`discount_amount`, 0) > 0
        )
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
