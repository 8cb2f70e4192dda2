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
          COUNT(*) AS value
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
            (
              NOT `r`.`profile_id` IS NULL
              AND `e`.`timestamp` <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
            )
            AND (
              (
                `e`.`event` = 'Product Viewed'
              )
              AND COALESCE((
                LOWER(GET_JSON_OBJECT(`e`.`properties`, '$.category')) = 'shoes'
              ), FALSE)
            )
          )
          AND (
            `e`.`timestamp` > CAST('2026-10-23 12:00:00' AS TIMESTAMP)
            AND `e`.`timestamp` <= CAST('2026-11-22 12:00:00' AS TIMESTAMP)
          )
        GROUP BY
          `r`.`profile_id`
      ) AS m
      WHERE
        `value` >= 3
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
