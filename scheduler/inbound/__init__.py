"""Mail that comes back: replies from calendar apps (iMIP REPLY). Inbound mail is hostile input;
nothing read here can change a session, only a member's answer to one."""
