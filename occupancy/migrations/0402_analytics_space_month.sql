-- Analytics reads (dashboard speed, #16): per space and calendar month, the
-- sums of analytics_space_daily that the per-space utilization needs
-- (analytics.space_months). A year of 2,000 desks is ~540k daily rows; the
-- reader sums the whole months of a period from here (~24k rows) and only
-- the days at its ends from the daily table. `occupancy analyze` refreshes the
-- months it touched; writing a month's daily rows forgets its aggregate
-- (analytics_space_month_done), so until the next analyze that month is read
-- from its days. Nothing to refill: months without an aggregate are read
-- from the daily table.
CREATE TABLE IF NOT EXISTS analytics_space_month (
    month        date NOT NULL,
    space_id     text NOT NULL,
    last_day     date NOT NULL,
    days         integer NOT NULL,
    used_days    integer NOT NULL,
    peak_people  double precision NOT NULL,
    available_s  double precision NOT NULL,
    measured_s   double precision NOT NULL,
    occupied_s   double precision NOT NULL,
    people_s     double precision NOT NULL,
    stuck_s      double precision NOT NULL,
    sessions     bigint NOT NULL,
    hours_used   bigint NOT NULL,
    PRIMARY KEY (month, space_id)
);

CREATE TABLE IF NOT EXISTS analytics_space_month_done (
    month  date PRIMARY KEY
);
