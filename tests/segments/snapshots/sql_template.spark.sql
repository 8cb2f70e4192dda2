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
          customer_id AS profile_id
        FROM orders
        WHERE
          total > 250
          AND ordered_at > CAST('2026-11-22 12:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
      ) AS t
      WHERE
        NOT `profile_id` IS NULL
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
