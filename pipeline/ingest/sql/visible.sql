-- visible_text(t): a value as the quarantine shows it: its first 200 characters, control characters shown as their
-- Unicode pictures (NUL as U+2400, tab as U+2409, DEL as U+2421), and an ellipsis when it was cut.
create or replace temp macro visible_text(t) as
    translate(left(t, 200),
        chr(0)||chr(1)||chr(2)||chr(3)||chr(4)||chr(5)||chr(6)||chr(7)||chr(8)||chr(9)||chr(10)||chr(11)||chr(12)||chr(13)||chr(14)||chr(15)||chr(16)||chr(17)||chr(18)||chr(19)||chr(20)||chr(21)||chr(22)||chr(23)||chr(24)||chr(25)||chr(26)||chr(27)||chr(28)||chr(29)||chr(30)||chr(31)||chr(127),
        chr(9216)||chr(9217)||chr(9218)||chr(9219)||chr(9220)||chr(9221)||chr(9222)||chr(9223)||chr(9224)||chr(9225)||chr(9226)||chr(9227)||chr(9228)||chr(9229)||chr(9230)||chr(9231)||chr(9232)||chr(9233)||chr(9234)||chr(9235)||chr(9236)||chr(9237)||chr(9238)||chr(9239)||chr(9240)||chr(9241)||chr(9242)||chr(9243)||chr(9244)||chr(9245)||chr(9246)||chr(9247)||chr(9249))
    || case when length(t) > 200 then '…' else '' end;
-- blank_line(t): a line that holds no value: empty, or only delimiters, quotes and spaces (",,,,," as Excel leaves
-- below a table's last row), counted as a blank line, not read as a row of blanks.
-- (The trim is asked only of a line that starts with one of those characters: a data line starts with its UPN.)
create or replace temp macro blank_line(t) as t = '' or (
    left(t, 1) in (' ', ',', ';', '"', chr(9), chr(13)) and trim(t, ' ,;"' || chr(9) || chr(13)) = '');
