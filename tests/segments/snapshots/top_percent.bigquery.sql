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
          `profile_id`,
          RANK() OVER (ORDER BY `total_spend` DESC) AS _rank,
          COUNT(*) OVER () AS _n
        FROM profiles
        WHERE
          NOT `total_spend` IS NULL
      ) AS r
      WHERE
        (
          `_rank` - 1
        ) * 100 < `_n` * 10
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
            AND `e`.`timestamp` <= CAST('2026-11-22 12:00:00' AS DATETIME)
          )
          AND (
            (
              `e`.`event` = 'Unsubscribed'
            )
          )
      )
    )
  )
